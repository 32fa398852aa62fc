//! Hash maps and sets whose iteration order survives a checkpoint and restore.
