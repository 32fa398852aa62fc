//! Examples and end-to-end tests of ckpt.
