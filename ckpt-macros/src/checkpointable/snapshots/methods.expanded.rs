impl Sim {
    #[allow(clippy::all)]
    fn step(&mut self, __ckpt_a1: f64) -> bool {
        Self::__ckpt_step(self, ::core::option::Option::Some(__ckpt_a1))
    }
    #[doc(hidden)]
    #[allow(
        unused_mut,
        unused_variables,
        unused_parens,
        unreachable_code,
        unused_braces,
        unused_assignments,
        clippy::all
    )]
    fn __ckpt_step(&mut self, __ckpt_p1: ::core::option::Option<f64>) -> bool {
        static __CKPT_FN: ::ckpt::__private::FnInfo = ::ckpt::__private::FnInfo {
            name: "Sim::step",
            hash: 2984369233385525843u64,
            params: &["dt"],
        };
        let __ck = ::ckpt::__private::frame(&__CKPT_FN);
        if !__ck.resume_in(1u32, 1u32) {
            let dt = ::ckpt::__private::arg(__ckpt_p1);
            self.t += dt;
        }
        __ck.save_point(
            1u32,
            ::ckpt::__private::Dest::Default,
            &|__w: &mut ::ckpt::__private::Writer<'_, '_>| -> ::ckpt::Result<()> {
                __w.put_arg("self", &*self)?;
                ::core::result::Result::Ok(())
            },
        )
        .expect("save");
        self.t < 10.0
    }
    #[allow(clippy::all)]
    fn run(&mut self) {
        Self::__ckpt_run(self)
    }
    #[doc(hidden)]
    #[allow(
        unused_mut,
        unused_variables,
        unused_parens,
        unreachable_code,
        unused_braces,
        unused_assignments,
        clippy::all
    )]
    fn __ckpt_run(&mut self) {
        static __CKPT_FN: ::ckpt::__private::FnInfo = ::ckpt::__private::FnInfo {
            name: "Sim::run",
            hash: 3495825516178836902u64,
            params: &[],
        };
        let __ck = ::ckpt::__private::frame(&__CKPT_FN);
        '__ckpt_l1: loop {
            let __ckpt_t1 = {
                let __ckpt_a0 = if __ck.resuming() {
                    ::core::option::Option::None
                } else {
                    ::core::option::Option::Some(0.5)
                };
                let __ckpt_cap =
                    |__w: &mut ::ckpt::__private::Writer<'_, '_>| -> ::ckpt::Result<()> {
                        ::core::result::Result::Ok(())
                    };
                let __ckpt_g = __ck.enter_call(1u32, "step", &[("self", "self")], &__ckpt_cap);
                let __ckpt_r = self.__ckpt_step(__ckpt_a0);
                ::core::mem::drop(__ckpt_g);
                __ckpt_r
            };
            if !(__ckpt_t1) {
                break '__ckpt_l1;
            }
            self.frames += 1;
        }
    }
}
