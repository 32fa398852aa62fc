//! The image file.
