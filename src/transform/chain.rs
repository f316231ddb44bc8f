//! The SMT chain: each record of a row change goes through the transforms
//! in `transforms` order, each applied only where its predicate says, as
//! Kafka Connect runs them.
//!
//! A record enters as a [`Flow::Change`] — the connector's change event (or
//! tombstone), not encoded yet — and stays one while no transform touches
//! it, so plain CDC of the tables an outbox predicate excludes costs a
//! predicate lookup and nothing else. A transform that takes it writes the
//! record it makes ([`Flow::Done`]); later transforms see that record the
//! way Connect would: EventRouter drops what has no value and passes
//! anything else, ExtractNewRecordState handles tombstones and passes
//! anything else (neither is a change event envelope any more).

use std::collections::HashMap;
use std::sync::Arc;

use super::config::{Kind, Predicate, TransformSpec};
use super::outbox::Router;
use super::unwrap::Unwrap;
use super::TransformError;
use crate::envelope::parts::Part;
use crate::envelope::transaction::Block;
use crate::envelope::{ChangeEvent, Encoder, Record, TableCodec};

/// The connector's context headers (`extended.headers.enabled`), by name.
pub const CONTEXT_HEADERS: [&str; 4] = [
    "__debezium.context.connectorLogicalName",
    "__debezium.context.taskId",
    "__debezium.context.connectorName",
    "__debezium.context.runId",
];

/// What one row change is being turned into.
pub struct Row<'r, 'a> {
    pub encoder: &'r Encoder,
    pub codec: &'r TableCodec,
    pub ev: &'r ChangeEvent<'a>,
    /// `extended.headers.enabled`: the records carry the context headers.
    pub context_headers: bool,
}

/// A record on its way through the chain.
pub enum Flow<'a> {
    /// The connector's record, untouched so far.
    Change(Part<'a>),
    /// A record a transform made.
    Done(Record),
}

struct Stage {
    spec_name: String,
    predicate: Option<(Predicate, bool)>,
    /// `TopicNameMatches` results per topic.
    topic_hits: HashMap<Arc<str>, bool>,
    transform: Transform,
}

enum Transform {
    Outbox(Box<Router>),
    Unwrap(Box<Unwrap>),
}

pub struct Chain {
    stages: Vec<Stage>,
}

impl Chain {
    pub fn new(specs: Vec<TransformSpec>) -> Self {
        let stages = specs
            .into_iter()
            .map(|s| Stage {
                spec_name: s.name,
                predicate: s.predicate,
                topic_hits: HashMap::new(),
                transform: match s.kind {
                    Kind::Outbox(c) => Transform::Outbox(Box::new(Router::new(*c))),
                    Kind::Unwrap(c) => Transform::Unwrap(Box::new(Unwrap::new(*c))),
                },
            })
            .collect();
        Chain { stages }
    }

    pub fn is_empty(&self) -> bool {
        self.stages.is_empty()
    }

    /// Whether no stage applies to the change events of `codec`'s table:
    /// they can be encoded as they are.
    pub fn passes_untouched(&mut self, codec: &TableCodec) -> bool {
        self.stages
            .iter_mut()
            .all(|s| s.never_applies_to(&codec.topic))
    }

    /// Runs one record of a row change through the chain; appends what
    /// comes out (nothing when a transform drops it).
    pub fn run<'a>(
        &mut self,
        row: &Row<'_, 'a>,
        part: Part<'a>,
        tx: Option<&Block<'_>>,
        out: &mut Vec<Record>,
    ) -> Result<(), TransformError> {
        let mut flow = Flow::Change(part);
        for stage in &mut self.stages {
            let applies = match &flow {
                Flow::Change(p) => stage.applies_to_change(
                    &row.codec.topic,
                    p.tombstone,
                    p.key_header.map(|k| k.0),
                    row.context_headers,
                ),
                Flow::Done(r) => stage.applies_to_record(r),
            };
            if !applies {
                continue;
            }
            let next = match &mut stage.transform {
                Transform::Outbox(router) => router.apply(row, flow, tx),
                Transform::Unwrap(unwrap) => unwrap.apply(row, flow, tx),
            };
            flow = match next.map_err(|message| TransformError {
                transform: stage.spec_name.clone(),
                table: row.codec.schema.qualified_name(),
                message,
            })? {
                Some(f) => f,
                None => return Ok(()),
            };
        }
        out.push(match flow {
            Flow::Change(p) => row.encoder.encode_part(row.codec, row.ev, &p, tx),
            Flow::Done(r) => r,
        });
        Ok(())
    }
}

impl Stage {
    /// A topic predicate that excludes every record of `topic`.
    fn never_applies_to(&mut self, topic: &Arc<str>) -> bool {
        match &self.predicate {
            Some((Predicate::TopicNameMatches(re), negate)) => {
                let hit = *self
                    .topic_hits
                    .entry(topic.clone())
                    .or_insert_with(|| re.is_match(topic));
                hit == *negate
            }
            _ => false,
        }
    }

    fn applies_to_change(
        &mut self,
        topic: &Arc<str>,
        tombstone: bool,
        key_header: Option<&str>,
        context: bool,
    ) -> bool {
        let Some((predicate, negate)) = &self.predicate else {
            return true;
        };
        let hit = match predicate {
            Predicate::TopicNameMatches(re) => *self
                .topic_hits
                .entry(topic.clone())
                .or_insert_with(|| re.is_match(topic)),
            Predicate::RecordIsTombstone => tombstone,
            Predicate::HasHeaderKey(name) => {
                key_header == Some(name.as_str())
                    || (context && CONTEXT_HEADERS.contains(&name.as_str()))
            }
        };
        hit != *negate
    }

    fn applies_to_record(&self, r: &Record) -> bool {
        let Some((predicate, negate)) = &self.predicate else {
            return true;
        };
        let hit = match predicate {
            Predicate::TopicNameMatches(re) => re.is_match(&r.topic),
            Predicate::RecordIsTombstone => r.value.is_none(),
            Predicate::HasHeaderKey(name) => {
                let context = r.delivery.as_ref().is_none_or(|d| d.context_headers);
                r.headers.iter().any(|(k, _)| k == name)
                    || (context && CONTEXT_HEADERS.contains(&name.as_str()))
                    || r.delivery
                        .as_ref()
                        .is_some_and(|d| d.trailing_headers.iter().any(|(k, _)| k == name))
            }
        };
        hit != *negate
    }
}
