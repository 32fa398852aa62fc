// Deny mode on a function: starting a child process, by full path and through a `use`.
#[ckpt::checkpointable(deny)]
fn list() -> std::io::Result<()> {
    use std::process::Stdio;
    let status = std::process::Command::new("ls")
        .stdout(Stdio::null())
        .status()?;
    ckpt::save().unwrap();
    println!("{status}");
    Ok(())
}

#[ckpt::checkpointable]
fn main() {
    list().unwrap();
}
