//! Secrets stay out of images: the client's token is a `#[ckpt(secret)]` field, read with
//! `ckpt::env::secret_var`, so no image holds it; a restore gets it again from the
//! restoring process's environment through the field's `init` function. Run with
//! `--ckpt-key-file key` (or `CKPT_KEY`) to sign the images too.
//!
//! ```sh
//! API_TOKEN=tok-123 cargo run --example apiclient -- 50000 &
//! kill -9 %1
//! API_TOKEN=tok-123 cargo run --example apiclient -- --restore apiclient.ckpt
//! ```

use ckpt::checkpointable;

/// A client of some service: its token must never be written to disk.
#[derive(ckpt::State)]
struct Client {
    #[ckpt(secret, init = token_from_env)]
    token: String,
    requests: u64,
    digest: u64,
}

/// Where the token comes from, in a fresh run and at a restore.
fn token_from_env() -> String {
    match ckpt::env::secret_var("API_TOKEN") {
        Ok(t) if !t.is_empty() => t,
        _ => {
            eprintln!("apiclient: set API_TOKEN");
            std::process::exit(1)
        }
    }
}

impl Client {
    /// A stand-in for a request signed with the token.
    fn request(&mut self, n: u64) -> u64 {
        self.requests += 1;
        let mut h = self.digest ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        for b in self.token.bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x100_0000_01B3);
        }
        self.digest = h;
        h
    }
}

#[checkpointable]
fn main() {
    let n: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(50_000);
    let mut client = Client {
        token: token_from_env(),
        requests: 0,
        digest: 0,
    };
    for i in 0..n {
        let h = client.request(i);
        if i % 5_000 == 0 {
            println!("request {i}: {h:016x}");
            ckpt::save().expect("checkpoint");
        }
    }
    println!(
        "result: {} requests, digest {:016x}",
        client.requests, client.digest
    );
}
