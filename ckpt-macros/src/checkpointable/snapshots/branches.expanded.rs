#[allow(clippy::all)]
fn branches(__ckpt_a0: Option<i64>, __ckpt_a1: &[u32]) -> Result<i64, ckpt::Error> {
    branches::__ckpt(::core::option::Option::Some(__ckpt_a0), __ckpt_a1)
}
#[doc(hidden)]
#[allow(non_snake_case, unused_imports)]
mod branches {
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
    pub fn __ckpt(
        __ckpt_p0: ::core::option::Option<Option<i64>>,
        __ckpt_p1: &[u32],
    ) -> Result<i64, ckpt::Error> {
        static __CKPT_FN: ::ckpt::__private::FnInfo = ::ckpt::__private::FnInfo {
            name: "branches",
            hash: 15324896791403930448u64,
            params: &["x", "v"],
        };
        let __ck = ::ckpt::__private::frame(&__CKPT_FN);
        let v = __ckpt_p1;
        #[allow(unused_mut, unused_variables)]
        let (mut total, mut i) = if __ck.resume_in(2u32, 2u32) {
            (__ck.take("total"), __ck.take("i"))
        } else {
            #[allow(unused_mut, unused_variables)]
            let (x, mut total) = if __ck.resume_in(1u32, 1u32) {
                (__ck.take("x"), __ck.take("total"))
            } else {
                let x = ::ckpt::__private::arg(__ckpt_p0);
                let mut total = 0i64;
                (x, total)
            };
            '__ckpt_m1: {
                let mut __ckpt_b1_0 = ::core::option::Option::None;
                let __ckpt_sel: u32 = if __ck.resume_in(1u32, 1u32) {
                    0u32
                } else {
                    match x {
                        Some(n) if n > 0 => {
                            __ckpt_b1_0 = ::core::option::Option::Some((n,));
                            0u32
                        }
                        Some(_) => break '__ckpt_m1 total -= 1,
                        None => break '__ckpt_m1 {},
                    }
                };
                match __ckpt_sel {
                    0u32 => {
                        #[allow(unused_mut, unused_variables)]
                        let (n,) = if __ck.resume_in(1u32, 1u32) {
                            (__ck.take("n"),)
                        } else {
                            let (n,) = ::ckpt::__private::arg(__ckpt_b1_0);
                            (n,)
                        };
                        __ck.save_point(
                            1u32,
                            ::ckpt::__private::Dest::Default,
                            &|__w: &mut ::ckpt::__private::Writer<'_, '_>| -> ::ckpt::Result<()> {
                                __w.put("x", &x)?;
                                __w.put("total", &total)?;
                                __w.put("n", &n)?;
                                ::core::result::Result::Ok(())
                            },
                        )?;
                        total += n;
                    }
                    _ => ::core::unreachable!(),
                }
            }
            let mut i = 0;
            (total, i)
        };
        '__ckpt_l1: loop {
            if !__ck.resume_in(2u32, 2u32) {
                if !(i < v.len()) {
                    break '__ckpt_l1;
                }
                total += v[i] as i64;
                i += 1;
            }
            __ck.save_point(
                2u32,
                ::ckpt::__private::Dest::Default,
                &|__w: &mut ::ckpt::__private::Writer<'_, '_>| -> ::ckpt::Result<()> {
                    __w.put("total", &total)?;
                    __w.put("i", &i)?;
                    ::core::result::Result::Ok(())
                },
            )?;
        }
        Ok(total)
    }
}
