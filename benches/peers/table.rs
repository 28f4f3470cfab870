//! Medians, ratios and the markdown table.

use std::time::Duration;

/// One row: an operation and the timings of each tool (`None`: not run).
pub struct Row {
    pub operation: String,
    pub hoist: Vec<Duration>,
    pub skopeo: Option<Vec<Duration>>,
    pub ctr: Option<Vec<Duration>>,
    pub floor: Option<Vec<Duration>>,
    /// curl | tee FILE | openssl dgst -sha256, every blob in parallel: the
    /// floor of a pull that verifies what it stores.
    pub verified_floor: Option<Vec<Duration>>,
    /// The floor's bytes, at the floor's pace, fdatasynced as they arrive.
    pub durable_floor: Option<Vec<Duration>>,
    /// Writing the same bytes from memory and fdatasyncing them.
    pub disk_floor: Option<Vec<Duration>>,
    pub note: String,
}

pub fn median(samples: &[Duration]) -> Option<Duration> {
    let mut sorted = samples.to_vec();
    sorted.sort();
    sorted.get(sorted.len() / 2).copied()
}

fn cell(samples: Option<&Vec<Duration>>) -> String {
    match samples.and_then(|s| median(s)) {
        Some(d) => format!("{:.2} s", d.as_secs_f64()),
        None => "—".to_owned(),
    }
}

fn ratio(hoist: &[Duration], other: Option<&Vec<Duration>>) -> String {
    match (median(hoist), other.and_then(|s| median(s))) {
        (Some(h), Some(o)) if o > Duration::ZERO => {
            format!("{:.2}×", h.as_secs_f64() / o.as_secs_f64())
        }
        _ => "—".to_owned(),
    }
}

pub fn render(rows: &[Row], header: &str) -> String {
    let mut out = String::new();
    out.push_str(header);
    out.push_str(
        "\n\n| operation | hoist | skopeo | ctr | floor (curl) | verified floor (curl, tee, sha256) \
         | durable floor (floor's pace, fdatasynced) | disk (write + fdatasync) | hoist/skopeo | hoist/ctr \
         | hoist/floor | hoist/verified floor | hoist/durable floor | note |\n",
    );
    out.push_str("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n");
    for row in rows {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
            row.operation,
            cell(Some(&row.hoist)),
            cell(row.skopeo.as_ref()),
            cell(row.ctr.as_ref()),
            cell(row.floor.as_ref()),
            cell(row.verified_floor.as_ref()),
            cell(row.durable_floor.as_ref()),
            cell(row.disk_floor.as_ref()),
            ratio(&row.hoist, row.skopeo.as_ref()),
            ratio(&row.hoist, row.ctr.as_ref()),
            ratio(&row.hoist, row.floor.as_ref()),
            ratio(&row.hoist, row.verified_floor.as_ref()),
            ratio(&row.hoist, row.durable_floor.as_ref()),
            row.note,
        ));
    }
    out
}
