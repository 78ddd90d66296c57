//! TCompactProtocol, read side.

use thrift::protocol::{
    TFieldIdentifier, TInputProtocol, TListIdentifier, TMapIdentifier, TMessageIdentifier,
    TMessageType, TSetIdentifier, TStructIdentifier, TType,
};
use thrift::{ProtocolError, ProtocolErrorKind};

use super::checks::{Checks, MAX_VARINT32_BYTES, MAX_VARINT64_BYTES};
use super::source::ByteSource;
use crate::Limits;

const PROTOCOL_ID: u8 = 0x82;
const VERSION: u8 = 0x01;
const VERSION_MASK: u8 = 0x1f;

/// Reads TCompactProtocol as the thrift crate's `TCompactInputProtocol`
/// does (the same values, the same errors for bad input), from a
/// [`ByteSource`]: strings and binary go from the stream to their own
/// allocation once, without being zeroed first, and strings are validated
/// as UTF-8 in place.
#[derive(Debug)]
pub struct CompactInputProtocol<S> {
    source: S,
    checks: Checks,
    /// The last field id read in the current struct, and the enclosing
    /// structs' (field ids are deltas).
    last_field_id: i16,
    field_id_stack: Vec<i16>,
    /// A bool field's value travels in its field header.
    pending_bool: Option<bool>,
}

impl<S: ByteSource> CompactInputProtocol<S> {
    /// Reads from `source` within `limits`.
    pub fn new(source: S, limits: Limits) -> Self {
        CompactInputProtocol {
            source,
            checks: Checks::new(limits),
            last_field_id: 0,
            field_id_stack: Vec::new(),
            pending_bool: None,
        }
    }

    fn varint32(&mut self) -> thrift::Result<u32> {
        let mut value = 0u32;
        for i in 0..MAX_VARINT32_BYTES {
            let b = self.source.read_byte()?;
            value |= u32::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(invalid("Variable-length int over 5 bytes."))
    }

    fn varint64(&mut self) -> thrift::Result<u64> {
        let mut value = 0u64;
        for i in 0..MAX_VARINT64_BYTES {
            let b = self.source.read_byte()?;
            value |= u64::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(invalid("Variable-length int over 10 bytes."))
    }

    fn binary_len(&mut self) -> thrift::Result<usize> {
        let len = self.varint32()? as usize;
        self.checks.string_len(len)?;
        Ok(len)
    }

    fn list_set_begin(&mut self) -> thrift::Result<(TType, i32)> {
        let header = self.source.read_byte()?;
        let element_type = collection_type(header & 0x0f)?;
        let count = match header >> 4 {
            15 => self.varint32()? as i32,
            short => i32::from(short),
        };
        self.checks
            .container(count, self.min_serialized_size(element_type))?;
        Ok((element_type, count))
    }
}

fn invalid(message: impl Into<String>) -> thrift::Error {
    thrift::Error::Protocol(ProtocolError::new(ProtocolErrorKind::InvalidData, message))
}

fn zigzag32(n: u32) -> i32 {
    ((n >> 1) as i32) ^ (0i32.wrapping_sub((n & 1) as i32))
}

fn zigzag64(n: u64) -> i64 {
    ((n >> 1) as i64) ^ (0i64.wrapping_sub((n & 1) as i64))
}

fn element_type(b: u8) -> thrift::Result<TType> {
    match b {
        0x00 => Ok(TType::Stop),
        0x03 => Ok(TType::I08),
        0x04 => Ok(TType::I16),
        0x05 => Ok(TType::I32),
        0x06 => Ok(TType::I64),
        0x07 => Ok(TType::Double),
        0x08 => Ok(TType::String),
        0x09 => Ok(TType::List),
        0x0a => Ok(TType::Set),
        0x0b => Ok(TType::Map),
        0x0c => Ok(TType::Struct),
        0x0d => Ok(TType::Uuid),
        other => Err(invalid(format!("cannot convert {other} into TType"))),
    }
}

/// Inside containers a bool's type is written 1 by most libraries and 2 by
/// the original spec: both are read.
fn collection_type(b: u8) -> thrift::Result<TType> {
    match b {
        0x01 | 0x02 => Ok(TType::Bool),
        other => element_type(other),
    }
}

impl<S: ByteSource> TInputProtocol for CompactInputProtocol<S> {
    fn read_message_begin(&mut self) -> thrift::Result<TMessageIdentifier> {
        let id = self.source.read_byte()?;
        if id != PROTOCOL_ID {
            return Err(thrift::Error::Protocol(ProtocolError::new(
                ProtocolErrorKind::BadVersion,
                format!("invalid compact protocol header {id:?}"),
            )));
        }
        let version_and_type = self.source.read_byte()?;
        let version = version_and_type & VERSION_MASK;
        if version != VERSION {
            return Err(thrift::Error::Protocol(ProtocolError::new(
                ProtocolErrorKind::BadVersion,
                format!("cannot process compact protocol version {version:?}"),
            )));
        }
        let message_type = TMessageType::try_from(version_and_type >> 5)?;
        // The sequence number is written as an unsigned varint, not zigzag.
        let sequence_number = self.varint32()? as i32;
        let name = self.read_string()?;
        self.last_field_id = 0;
        Ok(TMessageIdentifier::new(name, message_type, sequence_number))
    }

    fn read_message_end(&mut self) -> thrift::Result<()> {
        Ok(())
    }

    fn read_struct_begin(&mut self) -> thrift::Result<Option<TStructIdentifier>> {
        self.checks.enter_struct()?;
        self.field_id_stack.push(self.last_field_id);
        self.last_field_id = 0;
        Ok(None)
    }

    fn read_struct_end(&mut self) -> thrift::Result<()> {
        self.checks.leave_struct();
        self.last_field_id = self
            .field_id_stack
            .pop()
            .ok_or_else(|| invalid("a struct ended that had not begun"))?;
        Ok(())
    }

    fn read_field_begin(&mut self) -> thrift::Result<TFieldIdentifier> {
        let header = self.source.read_byte()?;
        let field_type = match header & 0x0f {
            0x01 => {
                self.pending_bool = Some(true);
                TType::Bool
            }
            0x02 => {
                self.pending_bool = Some(false);
                TType::Bool
            }
            other => element_type(other)?,
        };
        if field_type == TType::Stop {
            return Ok(
                TFieldIdentifier::new::<Option<String>, String, Option<i16>>(
                    None,
                    TType::Stop,
                    None,
                ),
            );
        }
        let delta = header >> 4;
        self.last_field_id = if delta != 0 {
            self.last_field_id
                .checked_add(i16::from(delta))
                .ok_or_else(|| invalid("field id overflow"))?
        } else {
            self.read_i16()?
        };
        Ok(TFieldIdentifier {
            name: None,
            field_type,
            id: Some(self.last_field_id),
        })
    }

    fn read_field_end(&mut self) -> thrift::Result<()> {
        Ok(())
    }

    fn read_bool(&mut self) -> thrift::Result<bool> {
        if let Some(value) = self.pending_bool.take() {
            return Ok(value);
        }
        match self.source.read_byte()? {
            0x01 => Ok(true),
            0x00 | 0x02 => Ok(false),
            other => Err(invalid(format!("cannot convert {other} into bool"))),
        }
    }

    fn read_bytes(&mut self) -> thrift::Result<Vec<u8>> {
        let len = self.binary_len()?;
        Ok(self.source.read_vec(len)?)
    }

    fn skip_binary(&mut self) -> thrift::Result<()> {
        let len = self.binary_len()?;
        Ok(self.source.discard(len)?)
    }

    fn read_i8(&mut self) -> thrift::Result<i8> {
        Ok(self.source.read_byte()? as i8)
    }

    fn read_i16(&mut self) -> thrift::Result<i16> {
        Ok(zigzag32(self.varint32()?) as i16)
    }

    fn read_i32(&mut self) -> thrift::Result<i32> {
        Ok(zigzag32(self.varint32()?))
    }

    fn read_i64(&mut self) -> thrift::Result<i64> {
        Ok(zigzag64(self.varint64()?))
    }

    fn read_double(&mut self) -> thrift::Result<f64> {
        let mut bytes = [0u8; 8];
        self.source.read_full(&mut bytes)?;
        Ok(f64::from_le_bytes(bytes))
    }

    fn read_uuid(&mut self) -> thrift::Result<uuid::Uuid> {
        let mut bytes = [0u8; 16];
        self.source.read_full(&mut bytes)?;
        Ok(uuid::Uuid::from_bytes(bytes))
    }

    fn read_string(&mut self) -> thrift::Result<String> {
        super::checks::utf8(self.read_bytes()?)
    }

    fn read_list_begin(&mut self) -> thrift::Result<TListIdentifier> {
        let (element_type, count) = self.list_set_begin()?;
        Ok(TListIdentifier::new(element_type, count))
    }

    fn read_list_end(&mut self) -> thrift::Result<()> {
        Ok(())
    }

    fn read_set_begin(&mut self) -> thrift::Result<TSetIdentifier> {
        let (element_type, count) = self.list_set_begin()?;
        Ok(TSetIdentifier::new(element_type, count))
    }

    fn read_set_end(&mut self) -> thrift::Result<()> {
        Ok(())
    }

    fn read_map_begin(&mut self) -> thrift::Result<TMapIdentifier> {
        let count = self.varint32()? as i32;
        if count == 0 {
            return Ok(TMapIdentifier::new(None, None, 0));
        }
        let types = self.source.read_byte()?;
        let key_type = collection_type(types >> 4)?;
        let value_type = collection_type(types & 0x0f)?;
        let element_size =
            self.min_serialized_size(key_type) + self.min_serialized_size(value_type);
        self.checks.container(count, element_size)?;
        Ok(TMapIdentifier::new(key_type, value_type, count))
    }

    fn read_map_end(&mut self) -> thrift::Result<()> {
        Ok(())
    }

    fn read_byte(&mut self) -> thrift::Result<u8> {
        Ok(self.source.read_byte()?)
    }

    fn min_serialized_size(&self, field_type: TType) -> usize {
        match field_type {
            TType::Double => 8,
            TType::Uuid => 16,
            _ => 1,
        }
    }
}
