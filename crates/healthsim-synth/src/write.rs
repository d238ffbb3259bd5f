//! The writers: the scenario as JSON text, streamed in chunks to any [`Write`].
//!
//! They render straight to bytes ([`JsonEmitter`]) instead of serializing the iterator's values,
//! and produce byte for byte what serializing those values would.

use std::collections::BTreeMap;
use std::io::{self, Write};

use crate::generator::Driver;
use crate::render::emit::{Framing, JsonEmitter};
use crate::{GenerationStats, GeneratorConfig};

/// Bytes collected before they are handed to the caller's writer.
const CHUNK: usize = 1 << 16;

fn stats_of(emit: &JsonEmitter) -> GenerationStats {
    let per_type: BTreeMap<&'static str, u64> = emit.counts.iter().copied().collect();
    GenerationStats {
        total: per_type.values().sum(),
        per_type,
    }
}

/// Drives `driver` to the end, handing `emit`'s output to `out` in chunks.
fn pump(driver: &mut Driver, emit: &mut JsonEmitter, out: &mut impl Write) -> io::Result<()> {
    while driver.step(emit) {
        if emit.buf.len() >= CHUNK {
            out.write_all(&emit.buf)?;
            emit.buf.clear();
        }
    }
    match emit.error.take() {
        Some(e) => Err(e.into()),
        None => Ok(()),
    }
}

/// Writes the stream as JSON Lines, one typed envelope per entity:
/// `{"type":"patients","entity":{"patient_id":"pat-000001",...}}`.
///
/// The envelope keeps the entity exactly as it would be persisted (no extra key inside it), and
/// the type is a registry table name. Lines come in stream order, so references always point to
/// earlier lines; each entity is byte for byte the `serde_json` serialization of the iterator's
/// value. Output is collected in 64 KiB chunks, so an unbuffered writer is fine; the writer is
/// flushed at the end.
pub fn write_jsonl(config: GeneratorConfig, out: &mut impl Write) -> io::Result<GenerationStats> {
    let mut driver = Driver::new(&config);
    let mut emit = JsonEmitter::new(Framing::Lines, CHUNK + 8192);
    pump(&mut driver, &mut emit, out)?;
    out.write_all(&emit.buf)?;
    out.flush()?;
    Ok(stats_of(&emit))
}

/// Writes the stream as one JSON document mapping each table to its entities:
/// `{"providers":[...],"facilities":[...],...,"patients":[...],...}` followed by a newline.
///
/// Tables appear in [`Mix::tables`](crate::Mix::tables) order (each after the tables it references); tables without
/// entities are left out. The document is written incrementally and never held in memory: each
/// table is one pass over the scenario that renders only that table (planning is cheap and
/// deterministic, so every pass sees the same people). The writer is flushed at the end.
pub fn write_document(
    config: GeneratorConfig,
    out: &mut impl Write,
) -> io::Result<GenerationStats> {
    let mut emit = JsonEmitter::new(Framing::DocumentArray, CHUNK + 8192);
    emit.buf.push(b'{');
    for &table in config.mix.tables() {
        emit.only = Some(table);
        emit.pass_count = 0;
        pump(&mut Driver::new(&config), &mut emit, out)?;
        if emit.pass_count > 0 {
            emit.buf.push(b']');
        }
    }
    emit.buf.extend_from_slice(b"}\n");
    out.write_all(&emit.buf)?;
    out.flush()?;
    Ok(stats_of(&emit))
}
