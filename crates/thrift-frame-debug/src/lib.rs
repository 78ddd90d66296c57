#![warn(missing_docs)]
//! A human-readable view of Thrift messages, in the format C++
//! TDebugProtocol prints.
