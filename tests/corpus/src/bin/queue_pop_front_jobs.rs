//! A job queue drained with `while let Some(job) = queue.pop_front()`, jobs pushing
//! follow-up jobs, a save after each job.
use std::collections::VecDeque;

#[derive(Debug, Clone, ckpt::State)]
enum Job {
    Fetch { url: String, tries: u32 },
    Parse(String),
    Done,
}

#[ckpt::checkpointable]
fn main() {
    let mut queue: VecDeque<Job> = VecDeque::new();
    for i in 0..4 {
        queue.push_back(Job::Fetch {
            url: format!("https://example.test/{i}"),
            tries: 0,
        });
    }
    let mut handled = 0;
    while let Some(job) = queue.pop_front() {
        handled += 1;
        match job {
            Job::Fetch { url, tries } if tries < 1 => {
                queue.push_back(Job::Fetch {
                    url,
                    tries: tries + 1,
                });
            }
            Job::Fetch { url, .. } => queue.push_back(Job::Parse(url)),
            Job::Parse(body) => {
                let words = body.split('/').count();
                if words > 3 {
                    queue.push_back(Job::Done);
                }
            }
            Job::Done => {}
        }
        ckpt::save().expect("checkpoint");
        println!("handled {handled}, {} queued", queue.len());
    }
}
