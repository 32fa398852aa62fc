fn main() {
    ckpt_build::instrument();
}
