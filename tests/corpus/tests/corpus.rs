//! Kill/restore equivalence for every program of the corpus (`src/bin/*.rs`).
//!
//! For each program: one uninterrupted run in a fresh directory, then three rounds, each
//! in its own fresh directory, of "run with `CKPT_CRASH_AFTER_SAVES=k`, then restore
//! with another k, five kills in a row, then a last restore that must finish". Every
//! round's directory (`out.txt`, the program's stdout, and every file the program left,
//! ignoring ckpt's own `*.ckpt*` files) must be byte-identical to the uninterrupted one.
//!
//! The k values come from a xorshift seeded by `CKPT_TEST_SEED` or the clock; the seed
//! is printed on stderr and in every failure message. Round 0 always starts with k = 1.
//!
//! The programs are ordinary Rust, written as a person would, one pattern each (see each
//! file's first lines). A new one goes in `src/bin/` and in the `corpus!` list at the end
//! of this file; what ckpt rejects by design is a ui-test (`ui-tests/`), not a program
//! here.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// Any single run of a program is killed after this long.
const CHILD_LIMIT: Duration = Duration::from_secs(30);
/// Interrupted rounds per program.
const ROUNDS: usize = 3;
/// Kills per round (the first run plus four restores, each killed).
const KILLS_PER_ROUND: usize = 5;
/// The signal the crash injection kills with.
const SIGKILL: i32 = 9;
/// Environment variables of ckpt (and of this test) that must not leak into the programs.
const CKPT_VARS: [&str; 6] = [
    "CKPT_CRASH_AFTER_SAVES",
    "CKPT_FILE",
    "CKPT_ENV",
    "CKPT_TIME",
    "CKPT_FILES",
    "CKPT_TEST_SEED",
];

/// Kill moments: a xorshift64 seeded from `CKPT_TEST_SEED` or the clock.
struct Moments {
    seed: u64,
    state: u64,
}

impl Moments {
    fn new(program: &str) -> Moments {
        let seed = std::env::var("CKPT_TEST_SEED")
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_nanos() as u64)
                    .unwrap_or(0x9E37_79B9_7F4A_7C15)
            });
        eprintln!("{program}: kill seed {seed} (set CKPT_TEST_SEED={seed} to repeat)");
        Moments {
            seed,
            state: seed | 1,
        }
    }

    /// A number in `lo..=hi`.
    fn next(&mut self, lo: u64, hi: u64) -> u64 {
        self.state ^= self.state << 13;
        self.state ^= self.state >> 7;
        self.state ^= self.state << 17;
        lo + self.state % (hi - lo + 1)
    }
}

/// Kills and reaps the child on drop, so a failing test leaves no process behind.
struct Guard(Option<Child>);

impl Drop for Guard {
    fn drop(&mut self) {
        if let Some(child) = &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// How one run ended.
enum End {
    /// Exited normally with status 0.
    Finished,
    /// Killed by SIGKILL (the crash injection).
    Killed,
    /// Anything else: a failure, with a description.
    Failed(String),
}

/// One run of `bin` in `dir`: stdin `inputs/<name>.txt` if there is one, else null, stdout to `dir/out.txt` (truncated or
/// appended), stderr to `stderr_file`.
fn run_once(
    bin: &Path,
    args: &[&str],
    dir: &Path,
    crash_after: Option<u64>,
    append: bool,
    stderr_file: &Path,
) -> End {
    let out_path = dir.join("out.txt");
    let stdout = if append {
        OpenOptions::new().append(true).create(true).open(&out_path)
    } else {
        File::create(&out_path)
    }
    .expect("open out.txt");
    let stderr = File::create(stderr_file).expect("create stderr log");
    // A program reading standard input gets `inputs/<name>.txt` (a regular file, which a
    // restore reads on from where the image says).
    let name = bin.file_stem().expect("binary stem").to_string_lossy();
    let input = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("inputs")
        .join(format!("{name}.txt"));
    let stdin = match File::open(&input) {
        Ok(f) => Stdio::from(f),
        Err(_) => Stdio::null(),
    };
    let mut cmd = Command::new(bin);
    cmd.args(args)
        .current_dir(dir)
        .stdin(stdin)
        .stdout(stdout)
        .stderr(stderr);
    for var in CKPT_VARS {
        cmd.env_remove(var);
    }
    // Panic messages without backtraces keep failure reports short.
    cmd.env("RUST_BACKTRACE", "0");
    if let Some(k) = crash_after {
        cmd.env("CKPT_CRASH_AFTER_SAVES", k.to_string());
    }
    let mut guard = Guard(Some(cmd.spawn().expect("spawn program")));
    let started = Instant::now();
    let status: ExitStatus = loop {
        let child = guard.0.as_mut().expect("child");
        match child.try_wait().expect("wait for program") {
            Some(status) => break status,
            None if started.elapsed() > CHILD_LIMIT => {
                drop(guard);
                return End::Failed(format!(
                    "still running after {CHILD_LIMIT:?}, killed; stderr:\n{}",
                    read_head(stderr_file)
                ));
            }
            None => std::thread::sleep(Duration::from_millis(5)),
        }
    };
    guard.0 = None;
    if status.success() {
        End::Finished
    } else if status.signal() == Some(SIGKILL) {
        End::Killed
    } else {
        End::Failed(format!("{status}; stderr:\n{}", read_head(stderr_file)))
    }
}

/// The first lines of a log file, for failure messages.
fn read_head(path: &Path) -> String {
    let text = std::fs::read(path).map(|b| String::from_utf8_lossy(&b).into_owned());
    match text {
        Ok(t) => {
            let lines: Vec<&str> = t.lines().take(12).collect();
            lines.join("\n")
        }
        Err(e) => format!("(no stderr: {e})"),
    }
}

/// Every file under `dir` (relative path -> contents), ckpt's `*.ckpt*` files excepted.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .expect("read dir")
            .map(|e| e.expect("dir entry").path())
            .collect();
        entries.sort();
        for path in entries {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if name.contains(".ckpt") {
                continue;
            }
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let rel = path.strip_prefix(root).unwrap().to_path_buf();
                out.insert(rel, std::fs::read(&path).expect("read file"));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// A short unified-style diff of the first differing lines.
fn short_diff(expected: &[u8], got: &[u8]) -> String {
    let e = String::from_utf8_lossy(expected);
    let g = String::from_utf8_lossy(got);
    let el: Vec<&str> = e.split_inclusive('\n').collect();
    let gl: Vec<&str> = g.split_inclusive('\n').collect();
    let first = el
        .iter()
        .zip(gl.iter())
        .position(|(a, b)| a != b)
        .unwrap_or(el.len().min(gl.len()));
    let ctx = first.saturating_sub(2);
    let mut out = format!(
        "@@ line {} (expected {} lines / {} bytes, got {} lines / {} bytes) @@\n",
        first + 1,
        el.len(),
        expected.len(),
        gl.len(),
        got.len()
    );
    for l in &el[ctx..first] {
        out.push_str(&format!(" {}", show(l)));
    }
    for l in el.iter().skip(first).take(4) {
        out.push_str(&format!("-{}", show(l)));
    }
    for l in gl.iter().skip(first).take(4) {
        out.push_str(&format!("+{}", show(l)));
    }
    out
}

fn show(line: &str) -> String {
    if line.ends_with('\n') {
        line.to_string()
    } else {
        format!("{line}\n\\ no newline at end\n")
    }
}

/// Compares a round's directory with the uninterrupted run's.
fn compare(reference: &BTreeMap<PathBuf, Vec<u8>>, dir: &Path) -> Result<(), String> {
    let got = snapshot(dir);
    let mut problems = Vec::new();
    for (path, want) in reference {
        match got.get(path) {
            None => problems.push(format!("{} is missing", path.display())),
            Some(have) if have != want => problems.push(format!(
                "{} differs:\n{}",
                path.display(),
                short_diff(want, have)
            )),
            Some(_) => {}
        }
    }
    for path in got.keys() {
        if !reference.contains_key(path) {
            problems.push(format!(
                "{} was not left by the uninterrupted run",
                path.display()
            ));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n"))
    }
}

/// One interrupted round in a fresh directory; `Err` describes what went wrong.
fn round(
    bin: &Path,
    image: &str,
    first_k: u64,
    moments: &mut Moments,
    reference: &BTreeMap<PathBuf, Vec<u8>>,
    logs: &Path,
) -> Result<String, String> {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path();
    let mut trail = Vec::new();
    let restore = ["--restore", image];
    let mut kills = 0;
    let mut step = 0;
    let mut finished = false;
    let mut k = first_k;
    while kills < KILLS_PER_ROUND {
        let log = logs.join(format!("step{step}.stderr"));
        let args: &[&str] = if step == 0 { &[] } else { &restore };
        let what = if step == 0 { "run" } else { "restore" };
        match run_once(bin, args, dir, Some(k), step > 0, &log) {
            End::Killed => {
                kills += 1;
                trail.push(format!("{what} k={k} killed"));
            }
            End::Finished => {
                trail.push(format!("{what} k={k} finished"));
                finished = true;
                break;
            }
            End::Failed(why) => {
                trail.push(format!("{what} k={k} FAILED"));
                return Err(format!("[{}]: {why}", trail.join(", ")));
            }
        }
        step += 1;
        k = moments.next(1, 4);
    }
    if !finished {
        let log = logs.join("final.stderr");
        match run_once(bin, &restore, dir, None, true, &log) {
            End::Finished => trail.push("final restore finished".to_string()),
            End::Killed => {
                trail.push("final restore KILLED".to_string());
                return Err(format!(
                    "[{}]: killed by SIGKILL without crash injection",
                    trail.join(", ")
                ));
            }
            End::Failed(why) => {
                trail.push("final restore FAILED".to_string());
                return Err(format!("[{}]: {why}", trail.join(", ")));
            }
        }
    }
    let trail = trail.join(", ");
    compare(reference, dir)
        .map_err(|diff| format!("[{trail}]: output differs from the uninterrupted run:\n{diff}"))?;
    Ok(trail)
}

/// The whole check of one program.
fn check(name: &str, bin: &str) {
    let bin = Path::new(bin);
    let image = format!(
        "{}.ckpt",
        bin.file_stem().expect("binary stem").to_string_lossy()
    );
    let logs = tempfile::tempdir().expect("log dir");
    let mut moments = Moments::new(name);

    let reference_dir = tempfile::tempdir().expect("temp dir");
    let log = logs.path().join("reference.stderr");
    match run_once(bin, &[], reference_dir.path(), None, false, &log) {
        End::Finished => {}
        End::Killed => panic!("{name}: the uninterrupted run was killed by SIGKILL"),
        End::Failed(why) => panic!("{name}: the uninterrupted run failed: {why}"),
    }
    let reference = snapshot(reference_dir.path());

    let mut failures = Vec::new();
    for r in 0..ROUNDS {
        let first_k = if r == 0 { 1 } else { moments.next(1, 6) };
        let round_logs = logs.path().join(format!("round{r}"));
        std::fs::create_dir_all(&round_logs).expect("log dir");
        match round(bin, &image, first_k, &mut moments, &reference, &round_logs) {
            Ok(trail) => eprintln!("{name}: round {r} ok [{trail}]"),
            Err(why) => failures.push(format!("round {r} {why}")),
        }
    }
    if !failures.is_empty() {
        panic!(
            "{name}: {} of {ROUNDS} rounds failed (seed {}; CKPT_TEST_SEED={} repeats it)\n{}",
            failures.len(),
            moments.seed,
            moments.seed,
            failures.join("\n")
        );
    }
}

macro_rules! corpus {
    ($($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                check(stringify!($name), env!(concat!("CARGO_BIN_EXE_", stringify!($name))));
            }
        )*
    };
}

corpus! {
    absorb_by_value,
    anyhow_result_main,
    bfs_grid_queue,
    borrowed_return_value,
    box_dyn_error_main,
    btreemap_range_scan,
    btreeset_wrapping_hash,
    bufwriter_report_file,
    cell_fn_pointer_table,
    chars_caesar_cipher,
    chunks_windows_stats,
    closure_generic_apply,
    closure_table_loop,
    closures_between_saves,
    closures_changing_captures,
    closures_in_loops_nested,
    cow_box_rc_str,
    custom_error_enum,
    custom_iterator_struct,
    dijkstra_binary_heap,
    dir_size_report,
    display_big_numbers_unicode,
    early_return_labelled,
    entry_api_word_freq,
    enum_state_machine,
    filter_map_parse_log,
    for_ref_vec_param,
    game_of_life_grid,
    generic_calls_borrowed_args,
    generic_ledger_struct,
    generic_total_stack,
    generic_trait_dispatch,
    get_mut_option_update,
    gfx_bouncing_balls,
    globals_everywhere,
    guess_number_ordering,
    hashmap_filter_map_loop,
    hashmap_iter_sum,
    hashmap_remove_entry,
    impl_iterator_helpers,
    inherent_impl_bank,
    intcode_vm,
    inventory_simulation,
    inventory_struct_maps,
    io_result_main,
    iter_borrowed_save,
    iter_enumerate_borrowed,
    iter_mut_enumerate_method,
    iter_mut_scale,
    iterator_chain_adapters,
    iterator_chain_shadowing,
    labelled_block_value,
    labelled_search_grid,
    linked_list_box,
    literals_across_save,
    lru_cache_display_result,
    map_values_loops,
    maps_passed_returned,
    match_borrowed_element,
    match_moves_scrutinee,
    match_on_ref_shapes,
    matrix_multiply_rows,
    mem_take_swap_replace,
    method_on_field_engine,
    method_on_temporary,
    methods_borrowed_loop_vars,
    move_closures_owning_values,
    move_into_summarize,
    mut_field_and_index_borrow,
    nested_vec_mut_param,
    nonzero_duration_pathbuf,
    own_iter_method_and_hashmap,
    particle_world_generic_trait,
    peekable_tokenizer,
    prime_sieve_index_loops,
    queue_pop_front_jobs,
    rc_refcell_shared_log,
    rc_refcell_tree,
    read_own_input_lines,
    reader_from_helper,
    reader_lines_params,
    reader_param_helper,
    recursive_n_queens,
    ref_patterns_boxed_closure,
    result_loop_question_mark,
    result_main_parse,
    rev_step_by_countdown,
    same_name_other_module,
    saving_calls_in_expressions,
    saving_calls_in_matches_let_else,
    set_current_dir_relative,
    shadowed_types_across_save,
    shop_struct_maps_methods,
    slice_params_sort,
    sort_dedup_search,
    split_whitespace_words,
    stack_last_brackets,
    static_atomic_counter,
    stdin_lock_lines,
    string_buffer_helper,
    string_builder_report,
    struct_map_method_loop,
    tcp_echo_in_process,
    temp_file_rename,
    thread_local_counter,
    tiny_interpreter,
    token_kinds_closure_guard,
    trait_default_method_saves,
    trait_dyn_box,
    trait_generic_sim,
    typed_self_where_fn,
    vec_consumed_in_branch,
    web_server_incoming,
    worker_threads_then_saves,
    zip_dot_product,
}
