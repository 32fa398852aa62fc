//! The stack's configuration: medium, addresses, output commit. Parsed without the
#![cfg_attr(not(feature = "net"), allow(dead_code))]
//! `net` feature too, so an option for a build without a stack is a clear error.

use std::net::Ipv4Addr;
use std::sync::OnceLock;

/// How egress frames leave on an outside medium (TAP).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Commit {
    /// A frame leaves only once an image covers the state that produced it (the runtime
    /// requests a checkpoint whenever frames wait). Kill at any instant is safe.
    Save,
    /// Frames leave at once: fastest, but a restore can stall connections whose bytes
    /// left after the last image.
    None,
}

/// The medium and addresses, from `--ckpt-tap`, `--ckpt-ip`, `--ckpt-gateway`,
/// `--ckpt-mac`, `--ckpt-net-commit` (or their `CKPT_*` variables).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct NetConfig {
    pub tap: Option<String>,
    pub ip: Option<(Ipv4Addr, u8)>,
    pub gateway: Option<Ipv4Addr>,
    pub mac: Option<[u8; 6]>,
    pub commit: Commit,
    /// What a restore does with connections through the host relay.
    pub relay: RelayPolicy,
}

/// What a restore does with a connection to a host outside the program (through the
/// host relay, the in-process medium's way out): the kernel connection died with the
/// process, so the program is told, one way or the other.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RelayPolicy {
    /// Reads and writes on it fail with `ConnectionReset`, saying why (the default).
    Error,
    /// It connects again to the same address; bytes that were on their way are lost,
    /// which suits request/response protocols saved between requests.
    Reconnect,
}

impl Default for NetConfig {
    fn default() -> Self {
        NetConfig {
            tap: None,
            ip: None,
            gateway: None,
            mac: None,
            commit: Commit::Save,
            relay: RelayPolicy::Error,
        }
    }
}

/// Parses one net setting's value (the check of an option), into `cfg`.
pub(crate) fn apply_setting(cfg: &mut NetConfig, key: &str, v: &str) -> Result<(), String> {
    match key {
        "tap" => {
            if v.is_empty() || v.len() > 15 || v.contains('/') {
                return Err("expected the name of a TAP device (1 to 15 characters)".into());
            }
            cfg.tap = Some(v.to_string());
        }
        "ip" => {
            let (a, p) = v
                .split_once('/')
                .ok_or("expected ADDRESS/PREFIX, like 198.51.100.2/24")?;
            let a: Ipv4Addr = a
                .parse()
                .map_err(|_| format!("`{a}` is not an IPv4 address"))?;
            let p: u8 = p
                .parse()
                .ok()
                .filter(|p| *p <= 32)
                .ok_or_else(|| format!("`{p}` is not a prefix length (0 to 32)"))?;
            cfg.ip = Some((a, p));
        }
        "gateway" => {
            cfg.gateway = Some(
                v.parse()
                    .map_err(|_| format!("`{v}` is not an IPv4 address"))?,
            )
        }
        "mac" => {
            let parts: Vec<u8> = v
                .split(':')
                .map(|p| u8::from_str_radix(p, 16))
                .collect::<Result<_, _>>()
                .map_err(|_| "expected a MAC address like 02:00:00:00:00:02".to_string())?;
            let mac: [u8; 6] = parts
                .try_into()
                .map_err(|_| "expected six bytes, like 02:00:00:00:00:02".to_string())?;
            if mac[0] & 1 != 0 {
                return Err("a multicast MAC address cannot be an interface's".into());
            }
            cfg.mac = Some(mac);
        }
        "net_commit" => {
            cfg.commit = match v {
                "save" => Commit::Save,
                "none" => Commit::None,
                _ => return Err("expected `save` (the default) or `none`".into()),
            }
        }
        "net_relay" => {
            cfg.relay = match v {
                "error" => RelayPolicy::Error,
                "reconnect" => RelayPolicy::Reconnect,
                _ => return Err("expected `error` (the default) or `reconnect`".into()),
            }
        }
        _ => return Err(format!("unknown net setting `{key}`")),
    }
    if !cfg!(feature = "net") {
        return Err("this build has no network stack: enable ckpt's `net` feature".into());
    }
    Ok(())
}

static CONFIG: OnceLock<NetConfig> = OnceLock::new();

/// Sets the medium and addresses for this process (the agent calls it before any user
/// code, from the run's settings). Later calls are ignored.
pub(crate) fn configure(cfg: NetConfig) {
    let _ = CONFIG.set(cfg);
}

/// This process's configuration (the in-process medium if none was set).
pub(crate) fn get() -> NetConfig {
    CONFIG.get().cloned().unwrap_or_default()
}

impl NetConfig {
    /// The settings as `key=value` lines (what [`NetConfig::decode`] reads).
    pub(crate) fn encode(&self) -> String {
        let mut out = String::new();
        if let Some(t) = &self.tap {
            out.push_str(&format!("tap={t}\n"));
        }
        if let Some((a, p)) = self.ip {
            out.push_str(&format!("ip={a}/{p}\n"));
        }
        if let Some(g) = self.gateway {
            out.push_str(&format!("gateway={g}\n"));
        }
        if let Some(m) = self.mac {
            let hex: Vec<String> = m.iter().map(|b| format!("{b:02x}")).collect();
            out.push_str(&format!("mac={}\n", hex.join(":")));
        }
        out.push_str(match self.commit {
            Commit::Save => "net_commit=save\n",
            Commit::None => "net_commit=none\n",
        });
        out.push_str(match self.relay {
            RelayPolicy::Error => "net_relay=error\n",
            RelayPolicy::Reconnect => "net_relay=reconnect\n",
        });
        out
    }

    /// Reads what [`NetConfig::encode`] wrote; `None` if it is not that.
    pub(crate) fn decode(s: &str) -> Option<NetConfig> {
        let mut cfg = NetConfig::default();
        for line in s.lines() {
            let (k, v) = line.split_once('=')?;
            apply_setting(&mut cfg, k, v).ok()?;
        }
        Some(cfg)
    }
}

/// The MAC of a TAP interface named `name` when none is given: locally administered,
/// unicast, the same for every run and restore of a program on that device.
pub(crate) fn default_mac(name: &str) -> [u8; 6] {
    let h = twox_hash::XxHash3_64::oneshot(name.as_bytes()).to_le_bytes();
    [0x02, h[0], h[1], h[2], h[3], h[4]]
}
