#[allow(
    unused_mut,
    unused_variables,
    unused_parens,
    unreachable_code,
    unused_braces,
    unused_assignments,
    clippy::all
)]
fn drive(__ckpt_p0: &mut Sim, __ckpt_p1: u64) -> u64 {
    static __CKPT_FN: ::ckpt::__private::FnInfo = ::ckpt::__private::FnInfo {
        name: "drive",
        hash: 5243001070731067354u64,
        params: &["sim", "rounds"],
        sites: &[""],
    };
    let __ck = ::ckpt::__private::frame(&__CKPT_FN);
    let __ckpt_ty1 = ::ckpt::__private::type_of(&__ckpt_p1);
    let sim = __ckpt_p0;
    let rounds = __ckpt_p1;
    #[allow(unused_mut, unused_assignments)]
    let mut __ckpt_ty___ckpt_it1 = ::ckpt::__private::TypeOf::new();
    #[allow(unused_mut, unused_assignments)]
    let mut __ckpt_ty_acc = ::ckpt::__private::TypeOf::new();
    if !__ck.resuming() {
        let mut acc = 0u64;
        __ckpt_ty_acc = ::ckpt::__private::type_of(&acc);
        {
            let mut __ckpt_it1 = ::ckpt::__private::Counted::new({
                #[allow(unused_imports)]
                use ::ckpt::__private::{OrderAny as _, OrderHash as _};
                (&&::ckpt::__private::Order::new(::core::iter::IntoIterator::into_iter(0..rounds)))
                    .__ckpt_order()
            });
            __ckpt_ty___ckpt_it1 = ::ckpt::__private::type_of(&__ckpt_it1);
            '__ckpt_l1: loop {
                #[allow(unused_mut)]
                let ::core::option::Option::Some(round) =
                    ::core::iter::Iterator::next(&mut __ckpt_it1)
                else {
                    break '__ckpt_l1;
                };
                sim.step(round);
                acc += sim.value();
                if round % 10 == 0 {
                    __ck.save_point(
                        1u32,
                        ::ckpt::__private::Dest::Default,
                        &|__w: &mut ::ckpt::__private::Writer<'_, '_>| -> ::ckpt::Result<()> {
                            ::ckpt::__private::IterSaveWhole::save(&__ckpt_it1, __w, "__ckpt_it1")?;
                            __w.put("acc", &acc)?;
                            {
                                #[allow(unused_imports)]
                                use ::ckpt::__private::{ArgRefNone as _, ArgRefState as _};
                                (&&::ckpt::__private::ArgRef(&*sim))
                                    .__ckpt_put(__w, 0usize, "sim", false)?;
                            }
                            {
                                #[allow(unused_imports)]
                                use ::ckpt::__private::{
                                    ArgDefaultNo as _, ArgDefaultYes as _, ArgPlaceholder as _,
                                    ArgStatePlaceholder as _,
                                };
                                (&&&&::ckpt::__private::ArgType(__ckpt_ty1))
                                    .__ckpt_default(__w, 1usize, "rounds")?;
                            }
                            ::core::result::Result::Ok(())
                        },
                    )
                    .expect("save");
                }
            }
        }
        acc
    } else {
        #[allow(unused_mut)]
        let mut acc;
        acc = {
            #[allow(unused_imports)]
            use ::ckpt::__private::{TakeOther as _, TakeState as _};
            (&&::ckpt::__private::Take(&__ck, __ckpt_ty_acc)).__ckpt_take("acc")
        };
        {
            #[allow(unused_mut)]
            let mut __ckpt_it1;
            __ckpt_it1 = ::ckpt::__private::iter_take_as(&__ck, __ckpt_ty___ckpt_it1, "__ckpt_it1");
            '__ckpt_exit1: {
                '__ckpt_first1: {
                    {
                        {
                            {
                                __ck . save_point (1u32 , :: ckpt :: __private :: Dest :: Default , & | __w : & mut :: ckpt :: __private :: Writer < '_ , '_ > | -> :: ckpt :: Result < () > { :: ckpt :: __private :: IterSaveWhole :: save (& __ckpt_it1 , __w , "__ckpt_it1") ? ; __w . put ("acc" , & acc) ? ; { # [allow (unused_imports)] use :: ckpt :: __private :: { ArgRefState as _ , ArgRefNone as _ } ; (& & :: ckpt :: __private :: ArgRef (& * sim)) . __ckpt_put (__w , 0usize , "sim" , false) ? ; } { # [allow (unused_imports)] use :: ckpt :: __private :: { ArgPlaceholder as _ , ArgDefaultYes as _ , ArgStatePlaceholder as _ , ArgDefaultNo as _ } ; (& & & & :: ckpt :: __private :: ArgType (__ckpt_ty1)) . __ckpt_default (__w , 1usize , "rounds") ? ; } :: core :: result :: Result :: Ok (()) }) . expect ("save") ;
                            }
                        }
                    }
                }
                '__ckpt_l1: loop {
                    #[allow(unused_mut)]
                    let ::core::option::Option::Some(round) =
                        ::core::iter::Iterator::next(&mut __ckpt_it1)
                    else {
                        break '__ckpt_l1;
                    };
                    sim.step(round);
                    acc += sim.value();
                    if round % 10 == 0 {
                        __ck.save_point(
                            1u32,
                            ::ckpt::__private::Dest::Default,
                            &|__w: &mut ::ckpt::__private::Writer<'_, '_>| -> ::ckpt::Result<()> {
                                ::ckpt::__private::IterSaveWhole::save(
                                    &__ckpt_it1,
                                    __w,
                                    "__ckpt_it1",
                                )?;
                                __w.put("acc", &acc)?;
                                {
                                    #[allow(unused_imports)]
                                    use ::ckpt::__private::{ArgRefNone as _, ArgRefState as _};
                                    (&&::ckpt::__private::ArgRef(&*sim))
                                        .__ckpt_put(__w, 0usize, "sim", false)?;
                                }
                                {
                                    #[allow(unused_imports)]
                                    use ::ckpt::__private::{
                                        ArgDefaultNo as _, ArgDefaultYes as _, ArgPlaceholder as _,
                                        ArgStatePlaceholder as _,
                                    };
                                    (&&&&::ckpt::__private::ArgType(__ckpt_ty1))
                                        .__ckpt_default(__w, 1usize, "rounds")?;
                                }
                                ::core::result::Result::Ok(())
                            },
                        )
                        .expect("save");
                    }
                }
            }
        }
        acc
    }
}
