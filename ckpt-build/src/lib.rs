pub fn instrument() {}
