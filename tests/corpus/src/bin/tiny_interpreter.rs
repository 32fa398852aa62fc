//! A tiny stack-language interpreter: tokens parsed from a string, a `Vec<i64>` stack, a
//! `HashMap` of variables, and a `match` on `&str` tokens; saving every few steps.
use std::collections::HashMap;

#[derive(Debug)]
enum Step {
    Continue,
    Halt(i64),
}

#[ckpt::checkpointable]
fn exec(tok: &str, stack: &mut Vec<i64>, vars: &mut HashMap<String, i64>) -> Result<Step, String> {
    let pop = |s: &mut Vec<i64>| s.pop().ok_or_else(|| "stack underflow".to_string());
    match tok {
        "+" | "-" | "*" => {
            let b = pop(stack)?;
            let a = pop(stack)?;
            stack.push(match tok {
                "+" => a + b,
                "-" => a - b,
                _ => a * b,
            });
        }
        "dup" => {
            let a = *stack.last().ok_or("empty")?;
            stack.push(a);
        }
        "halt" => return Ok(Step::Halt(pop(stack)?)),
        t if t.starts_with('=') => {
            let v = pop(stack)?;
            vars.insert(t[1..].to_string(), v);
        }
        t if t.starts_with('$') => {
            let v = *vars.get(&t[1..]).ok_or(format!("unknown {t}"))?;
            stack.push(v);
        }
        t => stack.push(t.parse().map_err(|e| format!("{t}: {e}"))?),
    }
    ckpt::save().map_err(|e| e.to_string())?;
    Ok(Step::Continue)
}

#[ckpt::checkpointable]
fn main() {
    let program = "3 4 + =x $x dup * =y $y 10 - $x * halt";
    let mut stack = Vec::new();
    let mut vars = HashMap::new();
    for (i, tok) in program.split_whitespace().enumerate() {
        match exec(tok, &mut stack, &mut vars) {
            Ok(Step::Continue) => println!("{i:2} {tok:>4} -> {:?}", stack),
            Ok(Step::Halt(v)) => {
                println!("halt with {v}");
                break;
            }
            Err(e) => {
                println!("error at {tok}: {e}");
                break;
            }
        }
    }
    let mut names: Vec<_> = vars.keys().cloned().collect();
    names.sort();
    println!("vars {:?}", names);
}
