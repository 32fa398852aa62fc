#[allow(
    unused_mut,
    unused_variables,
    unused_parens,
    unreachable_code,
    unused_braces,
    unused_assignments,
    clippy::all
)]
fn branches(__ckpt_p0: Option<i64>, __ckpt_p1: &[u32]) -> Result<i64, ckpt::Error> {
    static __CKPT_FN: ::ckpt::__private::FnInfo = ::ckpt::__private::FnInfo {
        name: "branches",
        hash: 15324896791403930448u64,
        params: &["x", "v"],
        sites: &["", ""],
    };
    let __ck = ::ckpt::__private::frame(&__CKPT_FN);
    let __ckpt_ty0 = ::ckpt::__private::type_of(&__ckpt_p0);
    let x = __ckpt_p0;
    let v = __ckpt_p1;
    #[allow(unused_mut, unused_assignments)]
    let mut __ckpt_ty_i = ::ckpt::__private::TypeOf::new();
    #[allow(unused_mut, unused_assignments)]
    let mut __ckpt_ty_n = ::ckpt::__private::TypeOf::new();
    #[allow(unused_mut, unused_assignments)]
    let mut __ckpt_ty_total = ::ckpt::__private::TypeOf::new();
    if !__ck.resuming() {
        let mut total = 0i64;
        __ckpt_ty_total = ::ckpt::__private::type_of(&total);
        match x {
            Some(n) if n > 0 => {
                __ckpt_ty_n = ::ckpt::__private::type_of(&n);
                {
                    __ck.save_point(
                        1u32,
                        ::ckpt::__private::Dest::Default,
                        &|__w: &mut ::ckpt::__private::Writer<'_, '_>| -> ::ckpt::Result<()> {
                            __w.put("n", &n)?;
                            __w.put("total", &total)?;
                            {
                                #[allow(unused_imports)]
                                use ::ckpt::__private::{
                                    ArgDefaultNo as _, ArgDefaultYes as _, ArgPlaceholder as _,
                                    ArgStatePlaceholder as _,
                                };
                                (&&&&::ckpt::__private::ArgType(__ckpt_ty0))
                                    .__ckpt_default(__w, 0usize, "x")?;
                            }
                            {
                                #[allow(unused_imports)]
                                use ::ckpt::__private::{ArgRefNone as _, ArgRefState as _};
                                (&&::ckpt::__private::ArgRef(&*v))
                                    .__ckpt_put(__w, 1usize, "v", true)?;
                            }
                            ::core::result::Result::Ok(())
                        },
                    )?;
                    total += n;
                }
            }
            Some(_) => total -= 1,
            None => {}
        }
        let mut i = 0;
        __ckpt_ty_i = ::ckpt::__private::type_of(&i);
        '__ckpt_l1: loop {
            if !(i < v.len()) {
                break '__ckpt_l1;
            }
            total += v[i] as i64;
            i += 1;
            __ck.save_point(
                2u32,
                ::ckpt::__private::Dest::Default,
                &|__w: &mut ::ckpt::__private::Writer<'_, '_>| -> ::ckpt::Result<()> {
                    __w.put("i", &i)?;
                    __w.put("total", &total)?;
                    {
                        #[allow(unused_imports)]
                        use ::ckpt::__private::{
                            ArgDefaultNo as _, ArgDefaultYes as _, ArgPlaceholder as _,
                            ArgStatePlaceholder as _,
                        };
                        (&&&&::ckpt::__private::ArgType(__ckpt_ty0))
                            .__ckpt_default(__w, 0usize, "x")?;
                    }
                    {
                        #[allow(unused_imports)]
                        use ::ckpt::__private::{ArgRefNone as _, ArgRefState as _};
                        (&&::ckpt::__private::ArgRef(&*v)).__ckpt_put(__w, 1usize, "v", true)?;
                    }
                    ::core::result::Result::Ok(())
                },
            )?;
        }
        Ok(total)
    } else {
        #[allow(unused_mut)]
        let mut total;
        #[allow(unused_mut)]
        let mut i;
        if __ck.resume_in(2u32, 2u32) {
            total = {
                #[allow(unused_imports)]
                use ::ckpt::__private::{TakeOther as _, TakeState as _};
                (&&::ckpt::__private::Take(&__ck, __ckpt_ty_total)).__ckpt_take("total")
            };
            i = {
                #[allow(unused_imports)]
                use ::ckpt::__private::{TakeOther as _, TakeState as _};
                (&&::ckpt::__private::Take(&__ck, __ckpt_ty_i)).__ckpt_take("i")
            };
            '__ckpt_exit1: {
                '__ckpt_first1: {
                    __ck.save_point(
                        2u32,
                        ::ckpt::__private::Dest::Default,
                        &|__w: &mut ::ckpt::__private::Writer<'_, '_>| -> ::ckpt::Result<()> {
                            __w.put("i", &i)?;
                            __w.put("total", &total)?;
                            {
                                #[allow(unused_imports)]
                                use ::ckpt::__private::{
                                    ArgDefaultNo as _, ArgDefaultYes as _, ArgPlaceholder as _,
                                    ArgStatePlaceholder as _,
                                };
                                (&&&&::ckpt::__private::ArgType(__ckpt_ty0))
                                    .__ckpt_default(__w, 0usize, "x")?;
                            }
                            {
                                #[allow(unused_imports)]
                                use ::ckpt::__private::{ArgRefNone as _, ArgRefState as _};
                                (&&::ckpt::__private::ArgRef(&*v))
                                    .__ckpt_put(__w, 1usize, "v", true)?;
                            }
                            ::core::result::Result::Ok(())
                        },
                    )?;
                }
                '__ckpt_l1: loop {
                    if !(i < v.len()) {
                        break '__ckpt_l1;
                    }
                    total += v[i] as i64;
                    i += 1;
                    __ck.save_point(
                        2u32,
                        ::ckpt::__private::Dest::Default,
                        &|__w: &mut ::ckpt::__private::Writer<'_, '_>| -> ::ckpt::Result<()> {
                            __w.put("i", &i)?;
                            __w.put("total", &total)?;
                            {
                                #[allow(unused_imports)]
                                use ::ckpt::__private::{
                                    ArgDefaultNo as _, ArgDefaultYes as _, ArgPlaceholder as _,
                                    ArgStatePlaceholder as _,
                                };
                                (&&&&::ckpt::__private::ArgType(__ckpt_ty0))
                                    .__ckpt_default(__w, 0usize, "x")?;
                            }
                            {
                                #[allow(unused_imports)]
                                use ::ckpt::__private::{ArgRefNone as _, ArgRefState as _};
                                (&&::ckpt::__private::ArgRef(&*v))
                                    .__ckpt_put(__w, 1usize, "v", true)?;
                            }
                            ::core::result::Result::Ok(())
                        },
                    )?;
                }
            }
        } else {
            total = {
                #[allow(unused_imports)]
                use ::ckpt::__private::{TakeOther as _, TakeState as _};
                (&&::ckpt::__private::Take(&__ck, __ckpt_ty_total)).__ckpt_take("total")
            };
            {
                {
                    #[allow(unused_mut)]
                    let n = {
                        #[allow(unused_imports)]
                        use ::ckpt::__private::{TakeOther as _, TakeState as _};
                        (&&::ckpt::__private::Take(&__ck, __ckpt_ty_n)).__ckpt_take("n")
                    };
                    {
                        __ck.save_point(
                            1u32,
                            ::ckpt::__private::Dest::Default,
                            &|__w: &mut ::ckpt::__private::Writer<'_, '_>| -> ::ckpt::Result<()> {
                                __w.put("n", &n)?;
                                __w.put("total", &total)?;
                                {
                                    #[allow(unused_imports)]
                                    use ::ckpt::__private::{
                                        ArgDefaultNo as _, ArgDefaultYes as _, ArgPlaceholder as _,
                                        ArgStatePlaceholder as _,
                                    };
                                    (&&&&::ckpt::__private::ArgType(__ckpt_ty0))
                                        .__ckpt_default(__w, 0usize, "x")?;
                                }
                                {
                                    #[allow(unused_imports)]
                                    use ::ckpt::__private::{ArgRefNone as _, ArgRefState as _};
                                    (&&::ckpt::__private::ArgRef(&*v))
                                        .__ckpt_put(__w, 1usize, "v", true)?;
                                }
                                ::core::result::Result::Ok(())
                            },
                        )?;
                        total += n;
                    }
                }
            }
            i = 0;
            '__ckpt_l1: loop {
                if !(i < v.len()) {
                    break '__ckpt_l1;
                }
                total += v[i] as i64;
                i += 1;
                __ck.save_point(
                    2u32,
                    ::ckpt::__private::Dest::Default,
                    &|__w: &mut ::ckpt::__private::Writer<'_, '_>| -> ::ckpt::Result<()> {
                        __w.put("i", &i)?;
                        __w.put("total", &total)?;
                        {
                            #[allow(unused_imports)]
                            use ::ckpt::__private::{
                                ArgDefaultNo as _, ArgDefaultYes as _, ArgPlaceholder as _,
                                ArgStatePlaceholder as _,
                            };
                            (&&&&::ckpt::__private::ArgType(__ckpt_ty0))
                                .__ckpt_default(__w, 0usize, "x")?;
                        }
                        {
                            #[allow(unused_imports)]
                            use ::ckpt::__private::{ArgRefNone as _, ArgRefState as _};
                            (&&::ckpt::__private::ArgRef(&*v))
                                .__ckpt_put(__w, 1usize, "v", true)?;
                        }
                        ::core::result::Result::Ok(())
                    },
                )?;
            }
        }
        Ok(total)
    }
}
