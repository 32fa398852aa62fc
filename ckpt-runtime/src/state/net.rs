//! `State` for the address types of `std::net`: saved as their usual text (`"10.0.0.1"`,
//! `"[::1]:8080"`), so an image shows them as written.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::str::FromStr;

use super::{Encoder, Loader, State, Value};
use crate::Error;

fn save_text(x: &impl std::fmt::Display, e: &mut Encoder<'_>) -> Result<(), Error> {
    e.text(&x.to_string());
    Ok(())
}

fn load_text<T: FromStr>(v: Value, ty: &str) -> Result<T, Error> {
    match v {
        Value::Text(t) => t
            .parse()
            .map_err(|_| Error::ty("", format!("{ty} (an address)"), format!("text {t:?}"))),
        other => Err(Error::ty("", format!("{ty} (text)"), other.kind())),
    }
}

macro_rules! as_text {
    ($($t:ident)*) => {$(
        impl State for $t {
            /// Its text form (`Display`), parsed back on load.
            fn save(&self, e: &mut Encoder<'_>) -> Result<(), Error> {
                save_text(self, e)
            }
            fn load(v: Value, _: &mut Loader) -> Result<Self, Error> {
                load_text(v, stringify!($t))
            }
        }
    )*};
}

as_text!(Ipv4Addr Ipv6Addr IpAddr SocketAddrV4);

impl State for SocketAddrV6 {
    /// `"[addr%scope]:port"`; with a nonzero flow label, which the text form cannot hold,
    /// the map `{"addr": text, "flowinfo": n}`.
    fn save(&self, e: &mut Encoder<'_>) -> Result<(), Error> {
        if self.flowinfo() == 0 {
            return save_text(self, e);
        }
        e.map(2);
        e.text("addr");
        save_text(self, e)?;
        e.text("flowinfo");
        e.uint(self.flowinfo() as u64);
        Ok(())
    }
    fn load(v: Value, l: &mut Loader) -> Result<Self, Error> {
        if let Value::Map(_) = v {
            let mut f = v.into_fields("SocketAddrV6")?;
            let addr: String = f.take("addr", l)?;
            let flowinfo: u32 = f.take("flowinfo", l)?;
            let mut a: SocketAddrV6 = load_text(Value::Text(addr), "SocketAddrV6")?;
            a.set_flowinfo(flowinfo);
            return Ok(a);
        }
        load_text(v, "SocketAddrV6")
    }
}

impl State for SocketAddr {
    /// Like the `SocketAddrV4` or `SocketAddrV6` it holds.
    fn save(&self, e: &mut Encoder<'_>) -> Result<(), Error> {
        match self {
            SocketAddr::V4(a) => a.save(e),
            SocketAddr::V6(a) => a.save(e),
        }
    }
    fn load(v: Value, l: &mut Loader) -> Result<Self, Error> {
        match v {
            Value::Map(_) => SocketAddrV6::load(v, l).map(SocketAddr::V6),
            other => load_text(other, "SocketAddr"),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::fmt::Debug;
    use std::net::*;

    use crate::state::{decode_slice, from_slice, to_vec, State, Value};
    use crate::Error;

    fn same<T: State + PartialEq + Debug>(v: T) {
        assert_eq!(from_slice::<T>(&to_vec(&v).unwrap()).unwrap(), v);
    }

    #[test]
    fn addresses_round_trip_as_text() {
        same(Ipv4Addr::new(10, 0, 0, 1));
        same(Ipv6Addr::LOCALHOST);
        same(IpAddr::V4(Ipv4Addr::BROADCAST));
        same(IpAddr::V6("fe80::1:2".parse().unwrap()));
        same(SocketAddr::from(([127, 0, 0, 1], 8080)));
        same(SocketAddr::V6(SocketAddrV6::new(
            Ipv6Addr::LOCALHOST,
            443,
            0,
            3,
        )));
        same(Some(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0)));
        let bytes = to_vec(&SocketAddr::from(([1, 2, 3, 4], 5))).unwrap();
        assert_eq!(
            decode_slice(&bytes).unwrap().0,
            Value::Text("1.2.3.4:5".into())
        );
    }

    #[test]
    fn a_flow_label_is_kept() {
        let a = SocketAddrV6::new("2001:db8::1".parse().unwrap(), 80, 0xabcde, 7);
        same(a);
        same(SocketAddr::V6(a));
    }

    #[test]
    fn bad_addresses_are_type_errors() {
        let bytes = to_vec(&"300.1.1.1").unwrap();
        assert!(matches!(
            from_slice::<Ipv4Addr>(&bytes),
            Err(Error::Type { .. })
        ));
        let bytes = to_vec(&7u8).unwrap();
        assert!(matches!(
            from_slice::<IpAddr>(&bytes),
            Err(Error::Type { .. })
        ));
    }
}
