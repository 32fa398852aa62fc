//! An Advent-of-Code style register VM: `#[checkpointable] impl Vm { fn run(&mut self) }`
//! dispatching on `match self.code[self.pc]`, saving every few hundred instructions.
#[derive(Debug, Clone, Copy, ckpt::State)]
enum Op {
    Set(usize, i64),
    Add(usize, usize),
    Mul(usize, usize),
    Dec(usize),
    Jnz(usize, i64),
    Out(usize),
    Halt,
}

#[derive(ckpt::State)]
struct Vm {
    code: Vec<Op>,
    pc: usize,
    regs: [i64; 4],
    executed: u64,
    output: Vec<i64>,
}

#[ckpt::checkpointable]
impl Vm {
    fn new(code: Vec<Op>) -> Self {
        Vm {
            code,
            pc: 0,
            regs: [0; 4],
            executed: 0,
            output: Vec::new(),
        }
    }

    fn run(&mut self) -> u64 {
        loop {
            let op = self.code[self.pc];
            self.executed += 1;
            match op {
                Op::Set(r, v) => self.regs[r] = v,
                Op::Add(a, b) => self.regs[a] += self.regs[b],
                Op::Mul(a, b) => self.regs[a] = self.regs[a].wrapping_mul(self.regs[b]) % 1_000_003,
                Op::Dec(r) => self.regs[r] -= 1,
                Op::Jnz(r, off) => {
                    if self.regs[r] != 0 {
                        self.pc = (self.pc as i64 + off) as usize;
                        continue;
                    }
                }
                Op::Out(r) => {
                    self.output.push(self.regs[r]);
                    ckpt::save().expect("checkpoint");
                    println!("out: {} after {} instructions", self.regs[r], self.executed);
                }
                Op::Halt => return self.executed,
            }
            self.pc += 1;
            if self.executed % 250 == 0 {
                ckpt::save().expect("checkpoint");
                println!("  {} instructions, regs {:?}", self.executed, self.regs);
            }
        }
    }
}

#[ckpt::checkpointable]
fn main() {
    // r0 = 1; r1 = 12; loop { r0 = r0 * r2 where r2 = r1 + 1; out r0; r1 -= 1 } while r1 != 0
    let program = vec![
        Op::Set(0, 1),
        Op::Set(1, 12),
        Op::Set(3, 1),
        Op::Set(2, 0),
        Op::Add(2, 1),
        Op::Add(2, 3),
        Op::Mul(0, 2),
        Op::Out(0),
        Op::Set(2, 40),
        Op::Dec(2),
        Op::Jnz(2, -1),
        Op::Dec(1),
        Op::Jnz(1, -9),
        Op::Halt,
    ];
    let mut vm = Vm::new(program);
    let steps = vm.run();
    println!("halted after {steps} instructions; output {:?}", vm.output);
}
