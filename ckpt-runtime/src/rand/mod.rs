//! User-space randomness whose stream continues identically after a restore.
