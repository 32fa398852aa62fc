impl Sim {
    #[allow(
        unused_mut,
        unused_variables,
        unused_parens,
        unreachable_code,
        unused_braces,
        unused_assignments,
        clippy::all
    )]
    fn step(&mut self, __ckpt_p1: f64) -> bool {
        static __CKPT_FN: ::ckpt::__private::FnInfo = ::ckpt::__private::FnInfo {
            name: "Sim::step",
            hash: 2984369233385525843u64,
            params: &["self", "dt"],
            sites: &[""],
        };
        let __ck = ::ckpt::__private::frame(&__CKPT_FN);
        let __ckpt_ty1 = ::ckpt::__private::type_of(&__ckpt_p1);
        let dt = __ckpt_p1;
        if !__ck.resuming() {
            self.t += dt;
            __ck.save_point(
                1u32,
                ::ckpt::__private::Dest::Default,
                &|__w: &mut ::ckpt::__private::Writer<'_, '_>| -> ::ckpt::Result<()> {
                    {
                        #[allow(unused_imports)]
                        use ::ckpt::__private::{ArgRefNone as _, ArgRefState as _};
                        (&&::ckpt::__private::ArgRef(&*self))
                            .__ckpt_put(__w, 0usize, "self", false)?;
                    }
                    {
                        #[allow(unused_imports)]
                        use ::ckpt::__private::{
                            ArgDefaultNo as _, ArgDefaultYes as _, ArgPlaceholder as _,
                            ArgStatePlaceholder as _,
                        };
                        (&&&&::ckpt::__private::ArgType(__ckpt_ty1))
                            .__ckpt_default(__w, 1usize, "dt")?;
                    }
                    ::core::result::Result::Ok(())
                },
            )
            .expect("save");
            self.t < 10.0
        } else {
            __ck.save_point(
                1u32,
                ::ckpt::__private::Dest::Default,
                &|__w: &mut ::ckpt::__private::Writer<'_, '_>| -> ::ckpt::Result<()> {
                    {
                        #[allow(unused_imports)]
                        use ::ckpt::__private::{ArgRefNone as _, ArgRefState as _};
                        (&&::ckpt::__private::ArgRef(&*self))
                            .__ckpt_put(__w, 0usize, "self", false)?;
                    }
                    {
                        #[allow(unused_imports)]
                        use ::ckpt::__private::{
                            ArgDefaultNo as _, ArgDefaultYes as _, ArgPlaceholder as _,
                            ArgStatePlaceholder as _,
                        };
                        (&&&&::ckpt::__private::ArgType(__ckpt_ty1))
                            .__ckpt_default(__w, 1usize, "dt")?;
                    }
                    ::core::result::Result::Ok(())
                },
            )
            .expect("save");
            self.t < 10.0
        }
    }
    #[allow(
        unused_mut,
        unused_variables,
        unused_parens,
        unreachable_code,
        unused_braces,
        unused_assignments,
        clippy::all
    )]
    fn run(&mut self) {
        static __CKPT_FN: ::ckpt::__private::FnInfo = ::ckpt::__private::FnInfo {
            name: "Sim::run",
            hash: 3495825516178836902u64,
            params: &["self"],
            sites: &[""],
        };
        let __ck = ::ckpt::__private::frame(&__CKPT_FN);
        if !__ck.resuming() {
            '__ckpt_l1: loop {
                let __ckpt_t1 = !({
                    let __ckpt_cap =
                        |__w: &mut ::ckpt::__private::Writer<'_, '_>| -> ::ckpt::Result<()> {
                            ::core::result::Result::Ok(())
                        };
                    let __ckpt_g = __ck.enter_call(1u32, "step", &[("self", "#0")], &__ckpt_cap);
                    let __ckpt_r = self.step(0.5);
                    ::core::mem::drop(__ckpt_g);
                    __ckpt_r
                });
                if __ckpt_t1 {
                    break '__ckpt_l1;
                }
                self.frames += 1;
            }
        } else {
            '__ckpt_exit1: {
                '__ckpt_first1: {
                    let __ckpt_t1 = !({
                        let __ckpt_cap =
                            |__w: &mut ::ckpt::__private::Writer<'_, '_>| -> ::ckpt::Result<()> {
                                ::core::result::Result::Ok(())
                            };
                        let __ckpt_g =
                            __ck.enter_call(1u32, "step", &[("self", "#0")], &__ckpt_cap);
                        let __ckpt_r = self.step(0.5);
                        ::core::mem::drop(__ckpt_g);
                        __ckpt_r
                    });
                    if __ckpt_t1 {
                        break '__ckpt_exit1;
                    }
                    self.frames += 1;
                }
                '__ckpt_l1: loop {
                    let __ckpt_t1 = !({
                        let __ckpt_cap =
                            |__w: &mut ::ckpt::__private::Writer<'_, '_>| -> ::ckpt::Result<()> {
                                ::core::result::Result::Ok(())
                            };
                        let __ckpt_g =
                            __ck.enter_call(1u32, "step", &[("self", "#0")], &__ckpt_cap);
                        let __ckpt_r = self.step(0.5);
                        ::core::mem::drop(__ckpt_g);
                        __ckpt_r
                    });
                    if __ckpt_t1 {
                        break '__ckpt_l1;
                    }
                    self.frames += 1;
                }
            }
        }
    }
}
