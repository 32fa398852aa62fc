#[allow(clippy::all)]
fn drive(__ckpt_a0: &mut Sim, __ckpt_a1: u64) -> u64 {
    drive::__ckpt(__ckpt_a0, ::core::option::Option::Some(__ckpt_a1))
}
#[doc(hidden)]
#[allow(non_snake_case, unused_imports)]
mod drive {
    use super::*;
    #[allow(
        unused_mut,
        unused_variables,
        unused_parens,
        unreachable_code,
        unused_braces,
        unused_assignments,
        clippy::all
    )]
    pub fn __ckpt(__ckpt_p0: &mut Sim, __ckpt_p1: ::core::option::Option<u64>) -> u64 {
        static __CKPT_FN: ::ckpt::__private::FnInfo = ::ckpt::__private::FnInfo {
            name: "drive",
            hash: 5243001070731067354u64,
            params: &["sim", "rounds"],
        };
        let __ck = ::ckpt::__private::frame(&__CKPT_FN);
        let sim = __ckpt_p0;
        #[allow(unused_mut, unused_variables)]
        let (rounds, mut acc) = if __ck.resume_in(1u32, 1u32) {
            (__ck.take("rounds"), __ck.take("acc"))
        } else {
            let rounds = ::ckpt::__private::arg(__ckpt_p1);
            let mut acc = 0u64;
            (rounds, acc)
        };
        {
            #[allow(unused_mut, unused_variables)]
            let (mut __ckpt_it1,) = if __ck.resume_in(1u32, 1u32) {
                ({
                    #[allow(unused_imports)]
                    use ::ckpt::__private::{
                        IterLoadCount as _, IterLoadFallback as _, IterLoadState as _,
                    };
                    (&&&::ckpt::__private::IterLoad::new(|| {
                        ::core::iter::IntoIterator::into_iter(0..rounds)
                    }))
                        .__ckpt_load(&__ck, "__ckpt_it1")
                },)
            } else {
                let mut __ckpt_it1 = ::ckpt::__private::Counted::new(
                    ::core::iter::IntoIterator::into_iter(0..rounds),
                );
                (__ckpt_it1,)
            };
            '__ckpt_l1: loop {
                #[allow(unused_mut, unused_variables)]
                let (round,) = if __ck.resume_in(1u32, 1u32) {
                    (__ck.take("round"),)
                } else {
                    let ::core::option::Option::Some(round) =
                        ::core::iter::Iterator::next(&mut __ckpt_it1)
                    else {
                        break '__ckpt_l1;
                    };
                    sim.step(round);
                    acc += sim.value();
                    (round,)
                };
                if __ck.resume_in(1u32, 1u32) || (!__ck.resuming() && (round % 10 == 0)) {
                    __ck.save_point(
                        1u32,
                        ::ckpt::__private::Dest::Default,
                        &|__w: &mut ::ckpt::__private::Writer<'_, '_>| -> ::ckpt::Result<()> {
                            __w.put("rounds", &rounds)?;
                            __w.put("acc", &acc)?;
                            {
                                #[allow(unused_imports)]
                                use ::ckpt::__private::{
                                    IterSaveCount as _, IterSaveFallback as _, IterSaveState as _,
                                };
                                (&&&::ckpt::__private::IterSave(&__ckpt_it1))
                                    .__ckpt_save(__w, "__ckpt_it1")?;
                            }
                            __w.put("round", &round)?;
                            __w.put_arg("sim", &*sim)?;
                            ::core::result::Result::Ok(())
                        },
                    )
                    .expect("save");
                }
            }
        }
        acc
    }
}
