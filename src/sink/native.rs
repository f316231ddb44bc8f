//! Handing records to librdkafka without the copies rdkafka's `send` makes,
//! which were the largest share of the connector's CPU in `make bench`'s
//! snapshot (JSON envelopes of ~2 KB each):
//! - a topic handle per topic, kept while the producer lives, instead of the
//!   topic name that `BaseProducer::send` turns into a `CString` and
//!   librdkafka looks up (lock, search, reference) for every record;
//! - the value's own buffer, which librdkafka frees after delivery
//!   (`RD_KAFKA_MSG_F_FREE`), instead of a copy into a new allocation:
//!   ~9 % of the connector's CPU (perf, 1M-row snapshot) — only when the
//!   process has declared that Rust's allocations can be freed with C's
//!   `free` ([`hand_over_values`]); otherwise librdkafka copies the value.
//!
//! Delivery reports still reach the producer's context as rdkafka's own
//! `send` would produce them: the opaque is the `usize` it expects.

use std::collections::HashMap;
use std::ffi::{c_void, CString};
use std::ptr::{self, NonNull};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use rdkafka::bindings as rd;
use rdkafka::error::RDKafkaErrorCode;
use rdkafka::producer::{Producer as _, ThreadedProducer};

use super::kafka::AckContext;

static HAND_OVER: AtomicBool = AtomicBool::new(false);

/// Lets the sink give librdkafka each record's value buffer, to be freed
/// with C's `free` after delivery, instead of having it copied.
///
/// # Safety
/// Every `Vec<u8>` buffer of the process must come from C's `malloc`: true
/// when Rust's global allocator is `std::alloc::System` or mimalloc with its
/// `override` feature (the binary's), false for an allocator that is not
/// also the C allocator. Call before the first record is produced.
pub unsafe fn hand_over_values() {
    HAND_OVER.store(true, Ordering::Relaxed);
}

/// A librdkafka topic handle (one reference, released on drop).
struct TopicHandle(NonNull<rd::rd_kafka_topic_t>);

// SAFETY: librdkafka topic handles are reference-counted and may be used
// from any thread.
unsafe impl Send for TopicHandle {}
unsafe impl Sync for TopicHandle {}

impl Drop for TopicHandle {
    fn drop(&mut self) {
        // SAFETY: the handle holds one reference, released once.
        unsafe { rd::rd_kafka_topic_destroy(self.0.as_ptr()) }
    }
}

/// Record headers in librdkafka's own form: the connector-wide ones are
/// built once and copied per record (librdkafka takes ownership of a
/// record's headers).
pub struct Headers(NonNull<rd::rd_kafka_headers_t>);

// SAFETY: a header list is plain memory owned by this value.
unsafe impl Send for Headers {}
unsafe impl Sync for Headers {}

impl Headers {
    pub fn new(capacity: usize) -> Headers {
        // SAFETY: rd_kafka_headers_new allocates (it aborts on OOM, never null).
        Headers(unsafe { NonNull::new_unchecked(rd::rd_kafka_headers_new(capacity)) })
    }

    /// Appends a header; `None` is a null value.
    pub fn add(&mut self, name: &str, value: Option<&[u8]>) {
        let (v, len) = value.map_or((ptr::null(), 0), |v| (v.as_ptr().cast::<c_void>(), v.len() as isize));
        // SAFETY: name and value are copied; the sizes are given (no NUL needed).
        unsafe { rd::rd_kafka_header_add(self.0.as_ptr(), name.as_ptr().cast(), name.len() as isize, v, len) };
    }

    pub fn is_empty(&self) -> bool {
        // SAFETY: a valid list.
        unsafe { rd::rd_kafka_header_cnt(self.0.as_ptr()) == 0 }
    }

    pub fn copy(&self) -> Headers {
        // SAFETY: a valid list; the copy is a new allocation.
        Headers(unsafe { NonNull::new_unchecked(rd::rd_kafka_headers_copy(self.0.as_ptr())) })
    }
}

impl Drop for Headers {
    fn drop(&mut self) {
        // SAFETY: owned, not handed to librdkafka (see `Producer::send`).
        unsafe { rd::rd_kafka_headers_destroy(self.0.as_ptr()) }
    }
}

/// One record as librdkafka gets it.
pub struct Outgoing<'a> {
    pub key: Option<&'a [u8]>,
    /// Taken when librdkafka accepts the record and frees it itself.
    pub value: &'a mut Option<Vec<u8>>,
    pub partition: Option<i32>,
    pub timestamp_ms: Option<i64>,
    /// Taken when librdkafka accepts the record.
    pub headers: &'a mut Option<Headers>,
    pub opaque: usize,
}

/// A producer and the topic handles it sends through.
pub struct Producer {
    // Declared first: handles are released before the client is destroyed.
    topics: HashMap<Arc<str>, TopicHandle>,
    inner: ThreadedProducer<AckContext>,
}

impl Producer {
    pub fn new(inner: ThreadedProducer<AckContext>) -> Producer {
        Producer { topics: HashMap::new(), inner }
    }

    pub fn inner(&self) -> &ThreadedProducer<AckContext> {
        &self.inner
    }

    /// Makes the handle of `topic`, once; before records are sent to it.
    pub fn open(&mut self, topic: &str) -> Result<(), RDKafkaErrorCode> {
        if self.topics.contains_key(topic) {
            return Ok(());
        }
        let name = CString::new(topic).map_err(|_| RDKafkaErrorCode::InvalidTopic)?;
        // SAFETY: a valid client and name; a null conf takes the producer's
        // default topic settings (as a record sent by name does).
        let rkt = unsafe { rd::rd_kafka_topic_new(self.inner.client().native_ptr(), name.as_ptr(), ptr::null_mut()) };
        let handle = NonNull::new(rkt).ok_or(RDKafkaErrorCode::InvalidTopic)?;
        self.topics.insert(Arc::from(topic), TopicHandle(handle));
        Ok(())
    }

    /// Enqueues one record for `topic` (opened before). On success the value
    /// (when handed over) and the headers now belong to librdkafka; on
    /// failure (a full queue, say) they stay with the caller for a retry.
    pub fn send(&self, topic: &str, rec: &mut Outgoing<'_>) -> Result<(), RDKafkaErrorCode> {
        let Some(rkt) = self.topics.get(topic) else { return Err(RDKafkaErrorCode::UnknownTopic) };
        let (key, key_len) = rec.key.map_or((ptr::null(), 0), |k| (k.as_ptr(), k.len()));
        let hand_over = HAND_OVER.load(Ordering::Relaxed);
        let (value, value_len, flags) = match rec.value.as_ref() {
            // An empty Vec may own no allocation: nothing to hand over.
            Some(v) if hand_over && v.capacity() > 0 => (v.as_ptr(), v.len(), rd::RD_KAFKA_MSG_F_FREE),
            Some(v) => (v.as_ptr(), v.len(), rd::RD_KAFKA_MSG_F_COPY),
            None => (ptr::null(), 0, 0),
        };
        let headers = rec.headers.as_ref().map_or(ptr::null_mut(), |h| h.0.as_ptr());
        // SAFETY: every pointer is valid for the call; librdkafka copies the
        // key, copies or (F_FREE) takes the value, and takes the headers
        // only when it returns no error.
        let err = unsafe {
            rd::rd_kafka_producev(
                self.inner.client().native_ptr(),
                rd::rd_kafka_vtype_t::RD_KAFKA_VTYPE_RKT,
                rkt.0.as_ptr(),
                rd::rd_kafka_vtype_t::RD_KAFKA_VTYPE_PARTITION,
                rec.partition.unwrap_or(-1),
                rd::rd_kafka_vtype_t::RD_KAFKA_VTYPE_MSGFLAGS,
                flags,
                rd::rd_kafka_vtype_t::RD_KAFKA_VTYPE_VALUE,
                value as *mut c_void,
                value_len,
                rd::rd_kafka_vtype_t::RD_KAFKA_VTYPE_KEY,
                key as *const c_void,
                key_len,
                rd::rd_kafka_vtype_t::RD_KAFKA_VTYPE_OPAQUE,
                rec.opaque as *mut c_void,
                rd::rd_kafka_vtype_t::RD_KAFKA_VTYPE_TIMESTAMP,
                rec.timestamp_ms.unwrap_or(0),
                rd::rd_kafka_vtype_t::RD_KAFKA_VTYPE_HEADERS,
                headers,
                rd::rd_kafka_vtype_t::RD_KAFKA_VTYPE_END,
            )
        };
        if err != rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR {
            return Err(err.into());
        }
        if flags == rd::RD_KAFKA_MSG_F_FREE {
            if let Some(v) = rec.value.take() {
                std::mem::forget(v);
            }
        }
        if let Some(h) = rec.headers.take() {
            std::mem::forget(h);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(h: &Headers) -> usize {
        // SAFETY: a valid list.
        unsafe { rd::rd_kafka_header_cnt(h.0.as_ptr()) }
    }

    #[test]
    fn headers_are_added_and_copied_with_null_values() {
        let mut h = Headers::new(2);
        assert!(h.is_empty());
        h.add("__debezium.context.taskId", Some(b"0"));
        h.add("nothing", None);
        let copy = h.copy();
        drop(h);
        assert_eq!(count(&copy), 2);
        let mut value: *const c_void = ptr::null();
        let mut size = 0usize;
        // SAFETY: a valid list; the name is NUL-terminated.
        let err = unsafe { rd::rd_kafka_header_get_last(copy.0.as_ptr(), c"nothing".as_ptr(), &mut value, &mut size) };
        assert_eq!(err, rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR);
        assert!(value.is_null());
    }

    #[test]
    fn a_topic_that_was_not_opened_is_refused() {
        let tracker = super::super::tracker::Tracker::new();
        let inner: ThreadedProducer<AckContext> = rdkafka::ClientConfig::new()
            .set("bootstrap.servers", "127.0.0.1:1")
            .create_with_context(AckContext::new(tracker))
            .expect("a producer without a broker");
        let mut p = Producer::new(inner);
        let (mut value, mut headers) = (Some(b"v".to_vec()), Some(Headers::new(1)));
        fn rec<'a>(value: &'a mut Option<Vec<u8>>, headers: &'a mut Option<Headers>) -> Outgoing<'a> {
            Outgoing { key: None, value, partition: None, timestamp_ms: None, headers, opaque: 0 }
        }
        assert_eq!(p.send("t", &mut rec(&mut value, &mut headers)).err(), Some(RDKafkaErrorCode::UnknownTopic));
        // Refused: both stay with the caller.
        assert!(value.is_some() && headers.is_some());
        p.open("t").expect("a topic handle");
        // Queued (no broker to deliver it to): accepted, the headers taken.
        assert_eq!(p.send("t", &mut rec(&mut value, &mut headers)), Ok(()));
        assert!(headers.is_none());
    }
}
