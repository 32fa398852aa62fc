//! `match cmd { .. }` on an owned enum with `String`/`Vec<String>` payloads, moving the
//! scrutinee into the arm bindings, with a save inside the arms.
#[derive(Debug, ckpt::State)]
enum Command {
    Push(String),
    Pop,
    Batch(Vec<String>),
    Print,
}

fn parse(line: &str) -> Option<Command> {
    let mut parts = line.split_whitespace();
    match parts.next()? {
        "push" => Some(Command::Push(parts.next()?.to_string())),
        "pop" => Some(Command::Pop),
        "batch" => Some(Command::Batch(parts.map(String::from).collect())),
        "print" => Some(Command::Print),
        _ => None,
    }
}

#[ckpt::checkpointable]
fn main() {
    let script =
        "push a\npush b\nbatch c d e\nprint\npop\npush f\nbogus\npop\nbatch g h\nprint\npop\nprint";
    let mut stack: Vec<String> = Vec::new();
    let mut executed = 0;
    for line in script.lines() {
        let cmd = match parse(line) {
            Some(c) => c,
            None => {
                println!("ignoring {line:?}");
                continue;
            }
        };
        executed += 1;
        match cmd {
            Command::Push(s) => {
                ckpt::save().expect("checkpoint");
                println!("push {s}");
                stack.push(s);
            }
            Command::Pop => {
                let top = stack.pop();
                ckpt::save().expect("checkpoint");
                println!("pop -> {:?}", top);
            }
            Command::Batch(items) => {
                ckpt::save().expect("checkpoint");
                println!("batch of {}", items.len());
                stack.extend(items);
            }
            Command::Print => println!("stack: {}", stack.join(" ")),
        }
    }
    println!("{executed} commands, final stack {:?}", stack);
}
