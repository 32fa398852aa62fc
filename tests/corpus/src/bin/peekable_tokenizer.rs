//! A calculator tokenizer over `src.chars().peekable()`, saving inside
//! `while let Some(&c) = chars.peek()` after each number, plus a small evaluator.
use std::iter::Peekable;
use std::slice::Iter;

#[derive(Debug, Clone, PartialEq, ckpt::State)]
enum Token {
    Num(i64),
    Op(char),
    LParen,
    RParen,
}

#[ckpt::checkpointable]
fn tokenize(src: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut chars = src.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_ascii_digit() {
            let mut n = 0i64;
            while let Some(&d) = chars.peek() {
                match d.to_digit(10) {
                    Some(v) => {
                        n = n * 10 + v as i64;
                        chars.next();
                    }
                    None => break,
                }
            }
            tokens.push(Token::Num(n));
            ckpt::save().expect("checkpoint");
            println!("  number {n}");
        } else if c == '(' {
            tokens.push(Token::LParen);
            chars.next();
        } else if c == ')' {
            tokens.push(Token::RParen);
            chars.next();
        } else if c.is_whitespace() {
            chars.next();
        } else {
            tokens.push(Token::Op(c));
            chars.next();
        }
    }
    tokens
}

fn expr(it: &mut Peekable<Iter<Token>>) -> i64 {
    let mut value = term(it);
    while let Some(Token::Op(op)) = it.peek() {
        if *op != '+' && *op != '-' {
            break;
        }
        let op = *op;
        it.next();
        let rhs = term(it);
        value = if op == '+' { value + rhs } else { value - rhs };
    }
    value
}

fn term(it: &mut Peekable<Iter<Token>>) -> i64 {
    let mut value = atom(it);
    while let Some(Token::Op(op)) = it.peek() {
        if *op != '*' && *op != '/' {
            break;
        }
        let op = *op;
        it.next();
        let rhs = atom(it);
        value = if op == '*' { value * rhs } else { value / rhs };
    }
    value
}

fn atom(it: &mut Peekable<Iter<Token>>) -> i64 {
    match it.next() {
        Some(Token::Num(n)) => *n,
        Some(Token::LParen) => {
            let v = expr(it);
            it.next();
            v
        }
        Some(Token::Op('-')) => -atom(it),
        other => panic!("unexpected token {:?}", other),
    }
}

#[ckpt::checkpointable]
fn main() {
    let exprs = [
        "12 + 34 * 2",
        "(1 + 2) * (3 + 4) - 5",
        "100 / 7 - 3 * (2 - 9)",
    ];
    for e in exprs {
        println!("tokenizing {e:?}");
        let tokens = tokenize(e);
        let value = expr(&mut tokens.iter().peekable());
        println!("{e} = {value} ({} tokens)", tokens.len());
    }
}
