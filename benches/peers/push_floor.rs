//! The push floors: an image's blobs and manifests uploaded to a registry
//! known to hold none of them, by the shortest exchange docker-registry
//! accepts, by curl and by plain HTTP/1.1 on kept connections (why they
//! are floors: `realistic.rs`).

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::peers::{Result, timed};

/// The transfers curl runs at once, as many as hoist's default.
const CONCURRENCY: usize = hoist::DEFAULT_CONCURRENCY;

/// What curl prints after each transfer: status, URL, `Location`.
const WRITE_OUT: &str = "%{http_code} %{url_effective} %header{location}\n";

/// One file to upload.
pub(crate) struct Upload {
    /// `sha256:<hex>`.
    pub(crate) digest: String,
    /// The `Content-Type` of a manifest's PUT (blobs go as octet streams).
    pub(crate) media_type: String,
    /// The file holding the bytes (an OCI layout's `blobs/sha256/<hex>`).
    pub(crate) path: PathBuf,
    /// Its size in bytes.
    pub(crate) size: u64,
}

/// What one push uploads: blobs (largest first, so that the longest
/// upload starts first), then the manifests that name them (by digest),
/// then the index (by tag) if any.
pub(crate) struct PushPlan {
    pub(crate) blobs: Vec<Upload>,
    pub(crate) manifests: Vec<Upload>,
    pub(crate) index: Option<(Upload, String)>,
}

/// How long each phase of one sample took; the floor is their sum.
#[derive(Clone, Copy)]
pub(crate) struct FloorTimes {
    /// Every blob's `POST .../blobs/uploads/`.
    pub(crate) starts: Duration,
    /// Every blob's `PUT <location>&digest=`.
    pub(crate) blobs: Duration,
    /// The manifests by digest, then the index by tag.
    pub(crate) manifests: Duration,
}

impl FloorTimes {
    pub(crate) fn total(&self) -> Duration {
        self.starts + self.blobs + self.manifests
    }
}

/// Uploads `plan` to `repository` at `host` (plain HTTP), `CONCURRENCY`
/// transfers at a time; fails naming the first upload the registry did not
/// answer 201 (202 for an upload's start).
pub(crate) fn push_floor(
    curl: &Path,
    host: &str,
    repository: &str,
    plan: &PushPlan,
) -> Result<FloorTimes> {
    let base = format!("http://{host}");
    let started = Instant::now();
    let start_url = format!("{base}/v2/{repository}/blobs/uploads/");
    let starts: Vec<Transfer> = plan
        .blobs
        .iter()
        .map(|blob| Transfer {
            args: vec![
                "-X".to_owned(),
                "POST".to_owned(),
                "-H".to_owned(),
                "Content-Length: 0".to_owned(),
            ],
            url: start_url.clone(),
            what: format!("the upload start for {}", blob.digest),
            expect: 202,
        })
        .collect();
    let locations: Vec<String> = curl_parallel(curl, &starts)?
        .into_iter()
        .map(|answer| {
            let location = answer.location.ok_or(format!(
                "the registry answered {}'s POST without a Location",
                answer.what
            ))?;
            Ok(if location.starts_with('/') {
                format!("{base}{location}")
            } else {
                location
            })
        })
        .collect::<Result<_>>()?;
    let after_starts = started.elapsed();

    // Upload sessions are interchangeable: any location takes any blob.
    let puts: Vec<Transfer> = plan
        .blobs
        .iter()
        .zip(&locations)
        .map(|(blob, location)| {
            let separator = if location.contains('?') { '&' } else { '?' };
            Transfer::put(
                blob,
                "application/octet-stream",
                format!("{location}{separator}digest={}", blob.digest),
            )
        })
        .collect();
    curl_parallel(curl, &puts)?;
    let after_blobs = started.elapsed();

    let children: Vec<Transfer> = plan
        .manifests
        .iter()
        .map(|manifest| {
            Transfer::put(
                manifest,
                &manifest.media_type,
                format!("{base}/v2/{repository}/manifests/{}", manifest.digest),
            )
        })
        .collect();
    curl_parallel(curl, &children)?;
    if let Some((index, tag)) = &plan.index {
        curl_parallel(
            curl,
            &[Transfer::put(
                index,
                &index.media_type,
                format!("{base}/v2/{repository}/manifests/{tag}"),
            )],
        )?;
    }
    let done = started.elapsed();
    Ok(FloorTimes {
        starts: after_starts,
        blobs: after_blobs - after_starts,
        manifests: done - after_blobs,
    })
}

/// One request of a curl run.
struct Transfer {
    args: Vec<String>,
    url: String,
    /// What it uploads, for errors.
    what: String,
    expect: u16,
}

impl Transfer {
    /// A PUT streaming `upload`'s file (`-T`: read as sent, not loaded
    /// first), without `Expect: 100-continue`'s extra round trip.
    fn put(upload: &Upload, content_type: &str, url: String) -> Transfer {
        Transfer {
            args: vec![
                "-T".to_owned(),
                upload.path.display().to_string(),
                "-H".to_owned(),
                format!("Content-Type: {content_type}"),
                "-H".to_owned(),
                "Expect:".to_owned(),
            ],
            url,
            what: upload.digest.clone(),
            expect: 201,
        }
    }
}

/// A transfer's answer.
struct Answer {
    what: String,
    location: Option<String>,
}

/// Runs `transfers` in one curl, `CONCURRENCY` at once on connections it
/// keeps; fails unless every one was answered its expected status.
fn curl_parallel(curl: &Path, transfers: &[Transfer]) -> Result<Vec<Answer>> {
    if transfers.is_empty() {
        return Ok(Vec::new());
    }
    let mut command = Command::new(curl);
    command.args([
        "--silent",
        "--show-error",
        "--parallel",
        "--parallel-immediate",
        "--parallel-max",
        &CONCURRENCY.to_string(),
    ]);
    for (i, transfer) in transfers.iter().enumerate() {
        if i > 0 {
            command.arg("--next");
        }
        command
            .args(&transfer.args)
            .args(["--output", "/dev/null", "--write-out", WRITE_OUT])
            .arg(&transfer.url);
    }
    let (_, stdout) = timed(&mut command)?;
    // Answers come in the order transfers end: matched back by URL.
    let mut pending: HashMap<&str, Vec<&Transfer>> = HashMap::new();
    for transfer in transfers {
        pending.entry(&transfer.url).or_default().push(transfer);
    }
    let mut answers = Vec::new();
    for line in stdout.lines() {
        let mut fields = line.split_whitespace();
        let (Some(code), Some(url)) = (fields.next(), fields.next()) else {
            return Err(format!("the push floor's curl printed {line:?}"));
        };
        let transfer = pending.get_mut(url).and_then(Vec::pop).ok_or(format!(
            "the push floor's curl answered for {url}, not asked"
        ))?;
        if code.parse::<u16>().ok() != Some(transfer.expect) {
            return Err(format!(
                "the push floor's upload of {} to {url}: the registry answered {code}, not {}",
                transfer.what, transfer.expect
            ));
        }
        answers.push(Answer {
            what: transfer.what.clone(),
            location: fields.next().map(str::to_owned),
        });
    }
    if let Some(missing) = pending.values().flatten().next() {
        return Err(format!(
            "the push floor's curl printed no answer for the upload of {}",
            missing.what
        ));
    }
    Ok(answers)
}

/// The same uploads as [`push_floor`], as a client that keeps its
/// connections would make them: `CONCURRENCY` threads, each on one
/// HTTP/1.1 connection it opens once, taking the next blob (largest
/// first) and sending its POST, then its PUT (the file sent by the kernel,
/// `sendfile`), as soon as it is done with the last; then the manifests
/// spread over the same connections, then the index.
pub(crate) fn kept_connections_floor(
    host: &str,
    repository: &str,
    plan: &PushPlan,
) -> Result<Duration> {
    let started = Instant::now();
    let next = Mutex::new(plan.blobs.iter());
    let take = || next.lock().ok().and_then(|mut blobs| blobs.next());
    let mut opened = Vec::new();
    for _ in 0..CONCURRENCY.min(plan.blobs.len().max(1)) {
        opened.push(Connection::open(host)?);
    }
    let connections = on_each(opened, |connection| {
        while let Some(blob) = take() {
            let location = connection
                .send(
                    "POST",
                    &format!("/v2/{repository}/blobs/uploads/"),
                    None,
                    202,
                    &format!("the upload start for {}", blob.digest),
                )?
                .ok_or(format!(
                    "the registry answered {}'s upload start without a Location",
                    blob.digest
                ))?;
            let separator = if location.contains('?') { '&' } else { '?' };
            let target = format!("{location}{separator}digest={}", blob.digest);
            connection.send(
                "PUT",
                &target,
                Some((blob, "application/octet-stream")),
                201,
                &blob.digest,
            )?;
        }
        Ok(())
    })?;
    let manifests = Mutex::new(plan.manifests.iter());
    let take = || manifests.lock().ok().and_then(|mut m| m.next());
    let mut connections = on_each(connections, |connection| {
        while let Some(manifest) = take() {
            connection.send(
                "PUT",
                &format!("/v2/{repository}/manifests/{}", manifest.digest),
                Some((manifest, &manifest.media_type)),
                201,
                &manifest.digest,
            )?;
        }
        Ok(())
    })?;
    if let (Some((index, tag)), Some(connection)) = (&plan.index, connections.first_mut()) {
        connection.send(
            "PUT",
            &format!("/v2/{repository}/manifests/{tag}"),
            Some((index, &index.media_type)),
            201,
            &index.digest,
        )?;
    }
    Ok(started.elapsed())
}

/// Runs `work` on each connection in a thread of its own, all at once, and
/// gives the connections back for the next phase.
fn on_each(
    connections: Vec<Connection>,
    work: impl Fn(&mut Connection) -> Result<()> + Sync,
) -> Result<Vec<Connection>> {
    std::thread::scope(|scope| {
        let workers: Vec<_> = connections
            .into_iter()
            .map(|mut connection| {
                let work = &work;
                scope.spawn(move || -> Result<Connection> {
                    work(&mut connection)?;
                    Ok(connection)
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|worker| {
                worker
                    .join()
                    .map_err(|_| "a push floor thread panicked".to_owned())?
            })
            .collect()
    })
}

/// One kept HTTP/1.1 connection to the registry (plain HTTP).
struct Connection {
    host: String,
    reader: BufReader<TcpStream>,
}

impl Connection {
    fn open(host: &str) -> Result<Connection> {
        let stream = TcpStream::connect(host).map_err(|e| format!("connecting to {host}: {e}"))?;
        stream
            .set_nodelay(true)
            .map_err(|e| format!("connecting to {host}: {e}"))?;
        Ok(Connection {
            host: host.to_owned(),
            reader: BufReader::new(stream),
        })
    }

    /// Sends a request with `body` (a file and its `Content-Type`) to
    /// `target` (a path, or a URL on this host), reads the answer, and
    /// returns its `Location`; fails unless the status is `expect`.
    fn send(
        &mut self,
        method: &str,
        target: &str,
        body: Option<(&Upload, &str)>,
        expect: u16,
        what: &str,
    ) -> Result<Option<String>> {
        let fail = |e: std::io::Error| format!("the push floor's upload of {what}: {e}");
        let path = target
            .strip_prefix(&format!("http://{}", self.host))
            .unwrap_or(target);
        let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {}\r\n", self.host);
        match body {
            Some((upload, content_type)) => head.push_str(&format!(
                "Content-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
                upload.size
            )),
            None => head.push_str("Content-Length: 0\r\n\r\n"),
        }
        let stream = self.reader.get_mut();
        stream.write_all(head.as_bytes()).map_err(fail)?;
        if let Some((upload, _)) = body {
            let mut file = std::fs::File::open(&upload.path)
                .map_err(|e| format!("{}: {e}", upload.path.display()))?;
            // File to socket: std sends it with sendfile(2).
            std::io::copy(&mut file, stream).map_err(fail)?;
        }
        let mut line = String::new();
        self.reader.read_line(&mut line).map_err(fail)?;
        let status: Option<u16> = line.split_whitespace().nth(1).and_then(|s| s.parse().ok());
        let (mut location, mut length) = (None, 0usize);
        loop {
            let mut header = String::new();
            if self.reader.read_line(&mut header).map_err(fail)? == 0 {
                return Err(format!(
                    "the push floor's upload of {what}: the registry closed the connection"
                ));
            }
            let header = header.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                if name.eq_ignore_ascii_case("location") {
                    location = Some(value.trim().to_owned());
                } else if name.eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse().unwrap_or(0);
                }
            }
        }
        let mut answer = vec![0u8; length];
        self.reader.read_exact(&mut answer).map_err(fail)?;
        if status != Some(expect) {
            return Err(format!(
                "the push floor's upload of {what} to {target}: the registry answered {:?}, not {expect}: {}",
                line.trim_end(),
                String::from_utf8_lossy(&answer)
            ));
        }
        Ok(location)
    }
}
