//! Bracket matching in the style of Advent of Code 2021 day 10: `if let Some(top) =
//! stack.last()` with a save inside, and `top` used after the save.
fn closing(open: char) -> char {
    match open {
        '(' => ')',
        '[' => ']',
        '{' => '}',
        _ => '>',
    }
}

#[ckpt::checkpointable]
fn main() {
    let lines = [
        "[({(<(())[]>[[{[]{<()<>>",
        "[(()[<>])]({[<{<<[]>>(",
        "{([(<{}[<>[]}>{[]{[(<()>",
        "(((({<>}<{<{<>}{[]{[]{}",
        "[[<[([]))<([[{}[[()]]]",
        "[{[{({}]{}}([{[{{{}}([]",
        "{<[[]]>}<{[{[{[]{()[[[]",
        "[<(<(<(<{}))><([]([]()",
        "<{([([[(<>()){}]>(<<{{",
        "<{([{{}}[<[[[<>{}]]]>[]]",
    ];
    let mut error_score = 0u64;
    let mut completion_scores = Vec::new();
    for (n, line) in lines.iter().enumerate() {
        let mut stack: Vec<char> = Vec::new();
        let mut corrupted = None;
        for c in line.chars() {
            match c {
                '(' | '[' | '{' | '<' => stack.push(c),
                _ => match stack.pop() {
                    Some(open) if closing(open) == c => {}
                    _ => {
                        corrupted = Some(c);
                        break;
                    }
                },
            }
        }
        if let Some(bad) = corrupted {
            ckpt::save().expect("checkpoint");
            error_score += match bad {
                ')' => 3,
                ']' => 57,
                '}' => 1197,
                _ => 25137,
            };
            println!("line {n}: corrupted at {bad:?}, error score {error_score}");
        } else if let Some(top) = stack.last() {
            ckpt::save().expect("checkpoint");
            println!(
                "line {n}: incomplete, innermost open {top:?}, needs {}",
                closing(*top)
            );
            let mut score = 0u64;
            for open in stack.iter().rev() {
                score = score * 5 + " )]}>".find(closing(*open)).unwrap() as u64;
            }
            completion_scores.push(score);
        }
    }
    completion_scores.sort();
    println!("syntax error score: {error_score}");
    println!(
        "middle completion score: {}",
        completion_scores[completion_scores.len() / 2]
    );
}
