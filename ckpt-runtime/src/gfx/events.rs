//! Input events: their one-line text form (the scripted source's lines and the input
//! log's payload), and the scripted source (`--ckpt-events FILE`).
//!
//! A script has one event per line, after the frame from which it is due:
//!
//! ```text
//! # frame event
//! 10 down 100 120 left
//! 11 move 130 140
//! 12 up 130 140 left
//! 20 key c           # key-down and key-up
//! 300 close
//! ```
//!
//! Events: `move X Y`, `down X Y BUTTON`, `up X Y BUTTON` (left, middle, right),
//! `key-down KEY`, `key-up KEY`, `key KEY`, `resize W H`, `close`. A key is one
//! character, or escape, enter, space, backspace, tab, left, right, up, down, or
//! `keysym:N`.

use std::path::Path;

use super::types::{Button, Event, Key};

/// An event as one line of text.
pub(crate) fn to_line(ev: &Event) -> String {
    let b = |b: &Button| match b {
        Button::Left => "left",
        Button::Middle => "middle",
        Button::Right => "right",
    };
    match ev {
        Event::KeyDown(k) => format!("key-down {}", key_name(k)),
        Event::KeyUp(k) => format!("key-up {}", key_name(k)),
        Event::MouseMove { x, y } => format!("move {x} {y}"),
        Event::MouseDown { x, y, button } => format!("down {x} {y} {}", b(button)),
        Event::MouseUp { x, y, button } => format!("up {x} {y} {}", b(button)),
        Event::Resized { width, height } => format!("resize {width} {height}"),
        Event::Closed => "close".into(),
    }
}

fn key_name(k: &Key) -> String {
    match k {
        Key::Char(' ') => "space".into(),
        Key::Char(c) => c.to_string(),
        Key::Escape => "escape".into(),
        Key::Enter => "enter".into(),
        Key::Backspace => "backspace".into(),
        Key::Tab => "tab".into(),
        Key::Left => "left".into(),
        Key::Right => "right".into(),
        Key::Up => "up".into(),
        Key::Down => "down".into(),
        Key::Other(s) => format!("keysym:{s}"),
    }
}

fn parse_key(s: &str) -> Result<Key, String> {
    Ok(match s {
        "space" => Key::Char(' '),
        "escape" => Key::Escape,
        "enter" => Key::Enter,
        "backspace" => Key::Backspace,
        "tab" => Key::Tab,
        "left" => Key::Left,
        "right" => Key::Right,
        "up" => Key::Up,
        "down" => Key::Down,
        _ => {
            if let Some(n) = s.strip_prefix("keysym:") {
                Key::Other(n.parse().map_err(|_| format!("bad keysym {n:?}"))?)
            } else {
                let mut cs = s.chars();
                match (cs.next(), cs.next()) {
                    (Some(c), None) => Key::Char(c),
                    _ => return Err(format!("unknown key {s:?}")),
                }
            }
        }
    })
}

/// Parses one event (the words after the frame number); `key K` gives two.
pub(crate) fn parse(words: &[&str]) -> Result<Vec<Event>, String> {
    let num = |i: usize| -> Result<f32, String> {
        let w = words.get(i).ok_or("too few numbers")?;
        w.parse::<f32>()
            .ok()
            .filter(|v| v.is_finite())
            .ok_or_else(|| format!("{w:?} is not a number"))
    };
    let size = |i: usize| -> Result<u32, String> {
        let w = words.get(i).ok_or("too few numbers")?;
        w.parse().map_err(|_| format!("{w:?} is not a size"))
    };
    let button = |i: usize| -> Result<Button, String> {
        match words.get(i).copied() {
            Some("left") | None => Ok(Button::Left),
            Some("middle") => Ok(Button::Middle),
            Some("right") => Ok(Button::Right),
            Some(w) => Err(format!("unknown button {w:?}")),
        }
    };
    let key = || parse_key(words.get(1).ok_or("a key is missing")?);
    let max = |n: usize| {
        if words.len() > n {
            Err(format!("unexpected {:?}", words[n]))
        } else {
            Ok(())
        }
    };
    let evs = match words.first().copied() {
        Some("move") => {
            max(3)?;
            vec![Event::MouseMove {
                x: num(1)?,
                y: num(2)?,
            }]
        }
        Some("down") => {
            max(4)?;
            vec![Event::MouseDown {
                x: num(1)?,
                y: num(2)?,
                button: button(3)?,
            }]
        }
        Some("up") => {
            max(4)?;
            vec![Event::MouseUp {
                x: num(1)?,
                y: num(2)?,
                button: button(3)?,
            }]
        }
        Some("key-down") => {
            max(2)?;
            vec![Event::KeyDown(key()?)]
        }
        Some("key-up") => {
            max(2)?;
            vec![Event::KeyUp(key()?)]
        }
        Some("key") => {
            max(2)?;
            let k = key()?;
            vec![Event::KeyDown(k), Event::KeyUp(k)]
        }
        Some("resize") => {
            max(3)?;
            vec![Event::Resized {
                width: size(1)?,
                height: size(2)?,
            }]
        }
        Some("close") => {
            max(1)?;
            vec![Event::Closed]
        }
        Some(w) => return Err(format!("unknown event {w:?}")),
        None => return Err("an empty event".into()),
    };
    Ok(evs)
}

/// Parses one line of text (the log's form) back into an event.
pub(crate) fn from_line(line: &str) -> Option<Event> {
    let words: Vec<&str> = line.split_whitespace().collect();
    match parse(&words) {
        Ok(mut v) if v.len() == 1 => v.pop(),
        _ => None,
    }
}

/// A script: events with the frame from which each is due, in order.
pub(crate) struct Script {
    pub events: Vec<(u64, Event)>,
}

impl Script {
    /// Reads and checks a script file, returning its text; an error names the file and
    /// line.
    pub(crate) fn load(path: &Path) -> std::io::Result<String> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            std::io::Error::new(
                e.kind(),
                format!("--ckpt-events {}: cannot read it: {e}", path.display()),
            )
        })?;
        Script::parse(&text).map_err(|(n, m)| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("--ckpt-events {}:{n}: {m}", path.display()),
            )
        })?;
        Ok(text)
    }

    /// Parses a script's text; an error gives the line number.
    pub(crate) fn parse(text: &str) -> Result<Script, (usize, String)> {
        let mut events = Vec::new();
        let mut last = 0;
        for (i, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or("");
            let words: Vec<&str> = line.split_whitespace().collect();
            let Some((frame, rest)) = words.split_first() else {
                continue;
            };
            let err = |m: String| (i + 1, m);
            let frame: u64 = frame
                .parse()
                .map_err(|_| err(format!("{frame:?} is not a frame number")))?;
            if frame < last {
                return Err(err(format!(
                    "frame {frame} after frame {last}: events must be in order"
                )));
            }
            last = frame;
            for ev in parse(rest).map_err(err)? {
                events.push((frame, ev));
            }
        }
        Ok(Script { events })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_round_trips_through_its_line() {
        let evs = [
            Event::KeyDown(Key::Char('c')),
            Event::KeyUp(Key::Char(' ')),
            Event::KeyDown(Key::Other(65470)),
            Event::KeyDown(Key::Escape),
            Event::MouseMove { x: 1.5, y: 2.0 },
            Event::MouseDown {
                x: 3.0,
                y: 4.0,
                button: Button::Right,
            },
            Event::MouseUp {
                x: 3.0,
                y: 4.0,
                button: Button::Middle,
            },
            Event::Resized {
                width: 800,
                height: 600,
            },
            Event::Closed,
        ];
        for ev in evs {
            assert_eq!(from_line(&to_line(&ev)), Some(ev.clone()), "{ev:?}");
        }
    }

    #[test]
    fn a_script_is_read_in_order_and_its_errors_name_the_line() {
        let s = Script::parse("# comment\n1 down 1 2\n\n3 key x # typed\n3 close\n").unwrap();
        assert_eq!(s.events.len(), 4);
        assert_eq!(s.events[1], (3, Event::KeyDown(Key::Char('x'))));
        assert_eq!(s.events[3], (3, Event::Closed));
        let e = |t: &str| Script::parse(t).err().unwrap();
        assert_eq!(e("5 close\n4 close").0, 2);
        assert!(e("x close").1.contains("frame number"));
        assert!(e("1 fly").1.contains("unknown event"));
        assert!(e("1 move 1").1.contains("too few"));
        assert!(e("1 move 1 2 3").1.contains("unexpected"));
        assert!(e("1 key ab").1.contains("unknown key"));
        assert!(e("1 down 1 2 thumb").1.contains("button"));
    }
}
