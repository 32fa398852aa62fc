//! The display's configuration: `--ckpt-display png:DIR|window|none` and
//! `--ckpt-events FILE` (or `CKPT_DISPLAY`, `CKPT_EVENTS`). Parsed without the `gfx`
//! feature too, so an option is checked the same way in every build.
#![cfg_attr(not(feature = "gfx"), allow(dead_code))]

use std::path::PathBuf;
use std::sync::OnceLock;

/// Where frames go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Choice {
    /// PNG files in a directory, one per frame (the default: `png:frames`).
    Png(PathBuf),
    /// A window (feature `window`).
    Window,
    /// Nowhere (frames are still counted and the surfaces kept).
    None,
}

impl Choice {
    /// Parses a `--ckpt-display` value.
    pub(crate) fn parse(v: &str) -> Result<Choice, String> {
        match v {
            "window" => Ok(Choice::Window),
            "none" => Ok(Choice::None),
            _ => match v.strip_prefix("png:") {
                Some("") => Err("png: needs a directory, like png:frames".into()),
                Some(dir) => Ok(Choice::Png(PathBuf::from(dir))),
                None => Err("expected png:DIR, window or none".into()),
            },
        }
    }
}

/// The display and the scripted events of this run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct GfxConfig {
    pub display: Choice,
    /// A file of scripted input events (`--ckpt-events`).
    pub events: Option<PathBuf>,
}

impl Default for GfxConfig {
    fn default() -> Self {
        GfxConfig {
            display: Choice::Png(PathBuf::from("frames")),
            events: None,
        }
    }
}

/// Parses one setting's value into `cfg` (the check of an option).
pub(crate) fn apply_setting(cfg: &mut GfxConfig, key: &str, v: &str) -> Result<(), String> {
    match key {
        "display" => cfg.display = Choice::parse(v)?,
        "events" => {
            if v.is_empty() {
                return Err("expected the path of an events file".into());
            }
            cfg.events = Some(PathBuf::from(v));
        }
        _ => return Err(format!("unknown display setting {key}")),
    }
    Ok(())
}

static CONFIG: OnceLock<GfxConfig> = OnceLock::new();

/// Sets this process's display (the agent calls it before any user code, from the run's
/// settings). Later calls are ignored.
pub(crate) fn configure(cfg: GfxConfig) {
    let _ = CONFIG.set(cfg);
}

/// This process's configuration (PNG files in `frames/` if none was set).
pub(crate) fn get() -> GfxConfig {
    CONFIG.get().cloned().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_display_and_refuses_the_rest() {
        assert_eq!(Choice::parse("window"), Ok(Choice::Window));
        assert_eq!(Choice::parse("none"), Ok(Choice::None));
        assert_eq!(Choice::parse("png:out/f"), Ok(Choice::Png("out/f".into())));
        assert!(Choice::parse("png:").unwrap_err().contains("directory"));
        assert!(Choice::parse("vnc").unwrap_err().contains("png:DIR"));
        let mut c = GfxConfig::default();
        assert!(apply_setting(&mut c, "events", "").is_err());
        apply_setting(&mut c, "events", "e.txt").unwrap();
        assert_eq!(c.events, Some(PathBuf::from("e.txt")));
    }
}
