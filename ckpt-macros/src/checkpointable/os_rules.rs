//! The OS constructs ckpt cannot virtualize inside checkpointable code, and why: the rule
//! table of the checkpointability report and of `#[checkpointable(deny)]`.
//!
//! Data-driven: [`RULES`] is the table, the rest only matches it. This one file is
//! compiled into two crates, ckpt-macros (the `deny` check) and ckpt-build (the report,
//! through `#[path]`), because ckpt-build depends on ckpt-macros through the runtime: so
//! it names nothing but `std`, `syn` and `proc-macro2`, and each crate uses a part of it.
#![allow(dead_code)]

use std::collections::BTreeSet;

use proc_macro2::{Span, TokenStream};
use quote::ToTokens;
use syn::visit::{self, Visit};

/// How a rule recognises a construct.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Pattern {
    /// A path that starts with these segments (`"std::process::Command"`).
    Prefix(&'static str),
    /// Like `Prefix`, but the leading `std::` may be missing (`thread::spawn` after
    /// `use std::thread;`).
    StdPrefix(&'static str),
    /// A path with this segment anywhere, or a method call of that name.
    Segment(&'static str),
}

/// One row of the table: what it matches, and the reason (`{}` is the construct as
/// written). `None` exempts the construct (pure types such as `std::os::raw::c_int`).
pub(crate) struct Rule {
    pub(crate) pattern: Pattern,
    pub(crate) reason: Option<&'static str>,
}

const FD: &str = "`{}` passes a raw file descriptor around ckpt; ckpt cannot reopen it on \
                  restore; keep raw descriptors outside checkpointable code, or reopen the \
                  resource after a restore";
const MMAP: &str = "`{}` maps memory ckpt does not save; the mapping is gone after a restore; \
                    map it outside checkpointable code and map it again after a restore";
const LIBC: &str = "`{}` calls the C library directly; ckpt cannot intercept it, so its effects \
                    are neither saved nor replayed on restore; move the call out of \
                    checkpointable code or recompute its result after a restore";
const COMMAND: &str = "`{}` starts a process ckpt cannot save or restore; keep it outside \
                       checkpointable code or accept that a restore will not see the child";
const EXIT: &str = "`{}` ends the process from checkpointable code, bypassing ckpt; a restore \
                    resumes from the last save point; return instead, or exit outside \
                    checkpointable code";
const PROCESS: &str = "`{}` touches the OS process ckpt cannot save or restore; keep it \
                       outside checkpointable code";
const THREAD: &str = "`{}` starts an OS thread ckpt does not track; its stack is not in an \
                      image and a restore will not see it; spawn it outside checkpointable \
                      code, or join it before the next save point";
const OS: &str = "`{}` is a platform-specific OS interface ckpt does not virtualize; its \
                  state is not saved; keep it outside checkpointable code";

/// The table, in priority order: the first matching row decides.
pub(crate) const RULES: &[Rule] = &[
    // Pure FFI types: nothing happens at run time.
    Rule {
        pattern: Pattern::Prefix("std::os::raw"),
        reason: None,
    },
    Rule {
        pattern: Pattern::Prefix("core::os::raw"),
        reason: None,
    },
    Rule {
        pattern: Pattern::Segment("FromRawFd"),
        reason: Some(FD),
    },
    Rule {
        pattern: Pattern::Segment("from_raw_fd"),
        reason: Some(FD),
    },
    Rule {
        pattern: Pattern::Segment("AsRawFd"),
        reason: Some(FD),
    },
    Rule {
        pattern: Pattern::Segment("as_raw_fd"),
        reason: Some(FD),
    },
    Rule {
        pattern: Pattern::Segment("IntoRawFd"),
        reason: Some(FD),
    },
    Rule {
        pattern: Pattern::Segment("into_raw_fd"),
        reason: Some(FD),
    },
    Rule {
        pattern: Pattern::Prefix("memmap"),
        reason: Some(MMAP),
    },
    Rule {
        pattern: Pattern::Prefix("memmap2"),
        reason: Some(MMAP),
    },
    Rule {
        pattern: Pattern::Segment("mmap"),
        reason: Some(MMAP),
    },
    Rule {
        pattern: Pattern::Segment("munmap"),
        reason: Some(MMAP),
    },
    Rule {
        pattern: Pattern::Segment("Mmap"),
        reason: Some(MMAP),
    },
    Rule {
        pattern: Pattern::Segment("MmapMut"),
        reason: Some(MMAP),
    },
    Rule {
        pattern: Pattern::Segment("MmapOptions"),
        reason: Some(MMAP),
    },
    Rule {
        pattern: Pattern::Prefix("libc"),
        reason: Some(LIBC),
    },
    Rule {
        pattern: Pattern::StdPrefix("std::process::Command"),
        reason: Some(COMMAND),
    },
    Rule {
        pattern: Pattern::StdPrefix("std::process::Child"),
        reason: Some(COMMAND),
    },
    Rule {
        pattern: Pattern::StdPrefix("std::process::Stdio"),
        reason: Some(COMMAND),
    },
    Rule {
        pattern: Pattern::StdPrefix("std::process::exit"),
        reason: Some(EXIT),
    },
    Rule {
        pattern: Pattern::StdPrefix("std::process::abort"),
        reason: Some(EXIT),
    },
    Rule {
        pattern: Pattern::Prefix("std::process"),
        reason: Some(PROCESS),
    },
    Rule {
        pattern: Pattern::StdPrefix("std::thread::spawn"),
        reason: Some(THREAD),
    },
    Rule {
        pattern: Pattern::StdPrefix("std::thread::Builder"),
        reason: Some(THREAD),
    },
    Rule {
        pattern: Pattern::StdPrefix("std::thread::scope"),
        reason: Some(THREAD),
    },
    Rule {
        pattern: Pattern::Prefix("std::os"),
        reason: Some(OS),
    },
    Rule {
        pattern: Pattern::Prefix("core::os"),
        reason: Some(OS),
    },
];

/// The reason for foreign functions declared in an `extern` block of the package.
pub(crate) const FOREIGN: &str = "`{}` is declared in an `extern` block: a foreign call ckpt \
                                  cannot see into, so its effects are neither saved nor \
                                  replayed on restore; keep it outside checkpointable code";

/// The reason for the path `segments` (without a leading `::`), if a rule reports it.
pub(crate) fn classify_path(segments: &[String]) -> Option<&'static str> {
    RULES
        .iter()
        .find(|r| matches_path(r.pattern, segments))
        .and_then(|r| r.reason)
}

/// The reason for a method call `.name(...)`, if a rule reports it.
pub(crate) fn classify_method(name: &str) -> Option<&'static str> {
    RULES
        .iter()
        .find(|r| matches!(r.pattern, Pattern::Segment(s) if s == name))
        .and_then(|r| r.reason)
}

/// Fills the construct into a reason.
pub(crate) fn explain(reason: &str, construct: &str) -> String {
    reason.replacen("{}", construct, 1)
}

fn matches_path(pattern: Pattern, segments: &[String]) -> bool {
    let starts = |p: &str| {
        let want: Vec<&str> = p.split("::").collect();
        segments.len() >= want.len() && segments.iter().zip(&want).all(|(a, b)| a == b)
    };
    match pattern {
        Pattern::Prefix(p) => starts(p),
        Pattern::StdPrefix(p) => starts(p) || p.strip_prefix("std::").is_some_and(starts),
        Pattern::Segment(s) => segments.iter().any(|seg| seg == s),
    }
}

/// One construct a rule matched.
#[derive(Debug, Clone)]
pub(crate) struct Hit {
    /// The construct's tokens: their first span is where it starts, and an error built
    /// with `syn::Error::new_spanned` underlines all of it.
    pub(crate) tokens: TokenStream,
    /// The construct as written (`std::process::Command::new`, `.as_raw_fd()`).
    pub(crate) construct: String,
    /// Why ckpt cannot virtualize it, and what to do (the reason with the construct).
    pub(crate) reason: String,
    /// A call of a function declared in an `extern` block ([`FOREIGN`]), which only a
    /// scan of the whole crate can recognise.
    pub(crate) foreign: bool,
}

impl Hit {
    fn new(tokens: TokenStream, construct: String, reason: &str) -> Self {
        Hit {
            reason: explain(reason, &construct),
            tokens,
            construct,
            foreign: reason == FOREIGN,
        }
    }

    /// Where the construct starts.
    pub(crate) fn start(&self) -> Span {
        self.tokens
            .clone()
            .into_iter()
            .next()
            .map_or_else(Span::call_site, |t| t.span())
    }
}

/// Collects the names of the functions declared in `extern { }` blocks.
pub(crate) struct ForeignNames<'a>(pub(crate) &'a mut BTreeSet<String>);

impl<'ast> Visit<'ast> for ForeignNames<'_> {
    fn visit_item_foreign_mod(&mut self, m: &'ast syn::ItemForeignMod) {
        for item in &m.items {
            if let syn::ForeignItem::Fn(f) = item {
                self.0.insert(f.sig.ident.to_string());
            }
        }
    }
}

/// What [`scan_block`] found in one function body.
#[derive(Debug, Default)]
pub(crate) struct Scanned {
    /// The constructs, in source order.
    pub(crate) hits: Vec<Hit>,
    /// Items declared in the body (except `use`, which is scanned): they are not part of
    /// the checkpointable function (the macro leaves them alone), so the caller decides.
    pub(crate) nested: Vec<syn::Item>,
}

/// The constructs of the rule table in a checkpointable function body, and calls of the
/// `foreign` functions (declared in `extern` blocks). Name based: no types, no macro
/// expansion (the arguments of function-like macros such as `println!` are looked into
/// when they parse as expressions).
pub(crate) fn scan_block(block: &syn::Block, foreign: &BTreeSet<String>) -> Scanned {
    let mut scan = BodyScan {
        foreign,
        out: Scanned::default(),
        in_macro: 0,
    };
    scan.visit_block(block);
    scan.out
}

struct BodyScan<'a> {
    foreign: &'a BTreeSet<String>,
    out: Scanned,
    /// Inside arguments of a macro call, parsed again: items there are not collected.
    in_macro: usize,
}

impl BodyScan<'_> {
    fn check_segments(&mut self, tokens: TokenStream, segments: Vec<String>) {
        if let Some(reason) = classify_path(&segments) {
            self.out
                .hits
                .push(Hit::new(tokens, segments.join("::"), reason));
        }
    }

    fn use_tree(&mut self, prefix: &mut Vec<String>, tree: &syn::UseTree) {
        match tree {
            syn::UseTree::Path(p) => {
                prefix.push(p.ident.to_string());
                self.use_tree(prefix, &p.tree);
                prefix.pop();
            }
            syn::UseTree::Name(n) => {
                let mut segs = prefix.clone();
                segs.push(n.ident.to_string());
                self.check_segments(n.ident.to_token_stream(), segs);
            }
            syn::UseTree::Rename(r) => {
                let mut segs = prefix.clone();
                segs.push(r.ident.to_string());
                self.check_segments(r.ident.to_token_stream(), segs);
            }
            syn::UseTree::Glob(g) => {
                self.check_segments(g.star_token.to_token_stream(), prefix.clone());
            }
            syn::UseTree::Group(g) => {
                for t in &g.items {
                    self.use_tree(prefix, t);
                }
            }
        }
    }
}

fn segments(p: &syn::Path) -> Vec<String> {
    p.segments.iter().map(|s| s.ident.to_string()).collect()
}

impl<'ast> Visit<'ast> for BodyScan<'_> {
    fn visit_item(&mut self, item: &'ast syn::Item) {
        match item {
            syn::Item::Use(u) => {
                let mut prefix = Vec::new();
                self.use_tree(&mut prefix, &u.tree);
            }
            // Its functions are in `foreign`; declaring them does nothing.
            syn::Item::ForeignMod(_) => {}
            other if self.in_macro == 0 => self.out.nested.push(other.clone()),
            _ => {}
        }
    }

    fn visit_path(&mut self, p: &'ast syn::Path) {
        self.check_segments(p.to_token_stream(), segments(p));
        visit::visit_path(self, p);
    }

    fn visit_expr_call(&mut self, c: &'ast syn::ExprCall) {
        if let syn::Expr::Path(p) = &*c.func {
            if let Some(last) = p.path.segments.last() {
                let segs = segments(&p.path);
                if self.foreign.contains(&last.ident.to_string()) && classify_path(&segs).is_none()
                {
                    let hit = Hit::new(p.path.to_token_stream(), segs.join("::"), FOREIGN);
                    self.out.hits.push(hit);
                }
            }
        }
        visit::visit_expr_call(self, c);
    }

    fn visit_expr_method_call(&mut self, m: &'ast syn::ExprMethodCall) {
        if let Some(reason) = classify_method(&m.method.to_string()) {
            let hit = Hit::new(
                m.method.to_token_stream(),
                format!(".{}()", m.method),
                reason,
            );
            self.out.hits.push(hit);
        }
        visit::visit_expr_method_call(self, m);
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        visit::visit_macro(self, mac);
        // `println!("{}", libc::getpid())`: look into arguments that parse as expressions.
        let args = mac.parse_body_with(
            syn::punctuated::Punctuated::<syn::Expr, syn::Token![,]>::parse_terminated,
        );
        if let Ok(args) = args {
            self.in_macro += 1;
            for e in &args {
                self.visit_expr(e);
            }
            self.in_macro -= 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(p: &str) -> Option<&'static str> {
        let segs: Vec<String> = p.split("::").map(str::to_owned).collect();
        classify_path(&segs)
    }

    #[test]
    fn first_matching_row_decides() {
        assert_eq!(path("std::process::Command::new"), Some(COMMAND));
        assert_eq!(path("process::exit"), Some(EXIT));
        assert_eq!(path("std::process::id"), Some(PROCESS));
        assert_eq!(path("thread::spawn"), Some(THREAD));
        assert_eq!(path("std::os::fd::FromRawFd"), Some(FD));
        assert_eq!(path("libc::mmap"), Some(MMAP));
        assert_eq!(path("libc::getpid"), Some(LIBC));
        assert_eq!(path("std::os::unix::fs::MetadataExt"), Some(OS));
        assert_eq!(path("std::os::raw::c_int"), None);
        assert_eq!(path("std::fs::File"), None);
        assert_eq!(path("process::id"), None);
        assert_eq!(classify_method("as_raw_fd"), Some(FD));
        assert_eq!(classify_method("spawn"), None);
        assert_eq!(explain(EXIT, "x").matches("`x`").count(), 1);
    }

    #[test]
    fn scans_a_body_but_not_its_items() {
        let block: syn::Block = syn::parse_quote!({
            use std::process::Command;
            let pid = unsafe { libc::getpid() };
            let fd = file.as_raw_fd();
            let n = unsafe { c_twice(fd) };
            println!("{}", std::process::id());
            let x: std::os::raw::c_int = 0;
            fn helper() {
                std::process::exit(1)
            }
        });
        let foreign = BTreeSet::from(["c_twice".to_owned()]);
        let found = scan_block(&block, &foreign);
        let got: Vec<&str> = found.hits.iter().map(|h| h.construct.as_str()).collect();
        assert_eq!(
            got,
            [
                "std::process::Command",
                "libc::getpid",
                ".as_raw_fd()",
                "c_twice",
                "std::process::id"
            ]
        );
        assert!(found.hits[3]
            .reason
            .starts_with("`c_twice` is declared in an `extern` block"));
        assert!(found.hits[3].foreign && !found.hits[1].foreign);
        assert_eq!(found.nested.len(), 1);
    }
}
