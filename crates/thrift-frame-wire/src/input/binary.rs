//! TBinaryProtocol (strict: the version header is required), read side.

use thrift::protocol::{
    TFieldIdentifier, TInputProtocol, TListIdentifier, TMapIdentifier, TMessageIdentifier,
    TMessageType, TSetIdentifier, TStructIdentifier, TType,
};
use thrift::{ProtocolError, ProtocolErrorKind};

use super::checks::Checks;
use super::source::ByteSource;
use crate::Limits;

/// Reads strict TBinaryProtocol as the thrift crate's
/// `TBinaryInputProtocol` (strict) does (the same values, the same errors
/// for bad input), from a [`ByteSource`]: strings and binary go from the
/// stream to their own allocation once, without being zeroed first, and
/// strings are validated as UTF-8 in place.
#[derive(Debug)]
pub struct BinaryInputProtocol<S> {
    source: S,
    checks: Checks,
}

impl<S: ByteSource> BinaryInputProtocol<S> {
    /// Reads from `source` within `limits`.
    pub fn new(source: S, limits: Limits) -> Self {
        BinaryInputProtocol {
            source,
            checks: Checks::new(limits),
        }
    }

    fn array<const N: usize>(&mut self) -> thrift::Result<[u8; N]> {
        let mut bytes = [0u8; N];
        self.source.read_full(&mut bytes)?;
        Ok(bytes)
    }

    fn binary_len(&mut self) -> thrift::Result<usize> {
        let len = self.read_i32()?;
        let len = usize::try_from(len).map_err(|_| {
            thrift::Error::Protocol(ProtocolError::new(
                ProtocolErrorKind::NegativeSize,
                format!("Negative byte array size: {len}"),
            ))
        })?;
        self.checks.string_len(len)?;
        Ok(len)
    }

    fn element_type(&mut self) -> thrift::Result<TType> {
        field_type(self.source.read_byte()?)
    }

    /// A list's or set's element type and size, the size checked.
    fn list_set_begin(&mut self) -> thrift::Result<(TType, i32)> {
        let element_type = self.element_type()?;
        let size = self.read_i32()?;
        self.checks
            .container(size, self.min_serialized_size(element_type))?;
        Ok((element_type, size))
    }
}

fn field_type(b: u8) -> thrift::Result<TType> {
    match b {
        0x00 => Ok(TType::Stop),
        0x01 => Ok(TType::Void),
        0x02 => Ok(TType::Bool),
        0x03 => Ok(TType::I08),
        0x04 => Ok(TType::Double),
        0x06 => Ok(TType::I16),
        0x08 => Ok(TType::I32),
        0x0a => Ok(TType::I64),
        0x0b => Ok(TType::String),
        0x0c => Ok(TType::Struct),
        0x0d => Ok(TType::Map),
        0x0e => Ok(TType::Set),
        0x0f => Ok(TType::List),
        0x10 => Ok(TType::Uuid),
        other => Err(thrift::Error::Protocol(ProtocolError::new(
            ProtocolErrorKind::InvalidData,
            format!("cannot convert {other} to TType"),
        ))),
    }
}

impl<S: ByteSource> TInputProtocol for BinaryInputProtocol<S> {
    fn read_message_begin(&mut self) -> thrift::Result<TMessageIdentifier> {
        let first: [u8; 4] = self.array()?;
        if first[0..2] != [0x80, 0x01] {
            return Err(thrift::Error::Protocol(ProtocolError::new(
                ProtocolErrorKind::BadVersion,
                format!("received bad version: {:?}", &first[0..2]),
            )));
        }
        let message_type = TMessageType::try_from(first[3])?;
        let name = self.read_string()?;
        let sequence_number = self.read_i32()?;
        Ok(TMessageIdentifier::new(name, message_type, sequence_number))
    }

    fn read_message_end(&mut self) -> thrift::Result<()> {
        Ok(())
    }

    fn read_struct_begin(&mut self) -> thrift::Result<Option<TStructIdentifier>> {
        self.checks.enter_struct()?;
        Ok(None)
    }

    fn read_struct_end(&mut self) -> thrift::Result<()> {
        self.checks.leave_struct();
        Ok(())
    }

    fn read_field_begin(&mut self) -> thrift::Result<TFieldIdentifier> {
        let field_type = self.element_type()?;
        let id = match field_type {
            TType::Stop => 0,
            _ => self.read_i16()?,
        };
        Ok(TFieldIdentifier::new::<Option<String>, String, i16>(
            None, field_type, id,
        ))
    }

    fn read_field_end(&mut self) -> thrift::Result<()> {
        Ok(())
    }

    fn read_bool(&mut self) -> thrift::Result<bool> {
        Ok(self.source.read_byte()? != 0)
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
        Ok(i16::from_be_bytes(self.array()?))
    }

    fn read_i32(&mut self) -> thrift::Result<i32> {
        Ok(i32::from_be_bytes(self.array()?))
    }

    fn read_i64(&mut self) -> thrift::Result<i64> {
        Ok(i64::from_be_bytes(self.array()?))
    }

    fn read_double(&mut self) -> thrift::Result<f64> {
        Ok(f64::from_be_bytes(self.array()?))
    }

    fn read_uuid(&mut self) -> thrift::Result<uuid::Uuid> {
        Ok(uuid::Uuid::from_bytes(self.array()?))
    }

    fn read_string(&mut self) -> thrift::Result<String> {
        super::checks::utf8(self.read_bytes()?)
    }

    fn read_list_begin(&mut self) -> thrift::Result<TListIdentifier> {
        let (element_type, size) = self.list_set_begin()?;
        Ok(TListIdentifier::new(element_type, size))
    }

    fn read_list_end(&mut self) -> thrift::Result<()> {
        Ok(())
    }

    fn read_set_begin(&mut self) -> thrift::Result<TSetIdentifier> {
        let (element_type, size) = self.list_set_begin()?;
        Ok(TSetIdentifier::new(element_type, size))
    }

    fn read_set_end(&mut self) -> thrift::Result<()> {
        Ok(())
    }

    fn read_map_begin(&mut self) -> thrift::Result<TMapIdentifier> {
        let key_type = self.element_type()?;
        let value_type = self.element_type()?;
        let size = self.read_i32()?;
        let element_size =
            self.min_serialized_size(key_type) + self.min_serialized_size(value_type);
        self.checks.container(size, element_size)?;
        Ok(TMapIdentifier::new(key_type, value_type, size))
    }

    fn read_map_end(&mut self) -> thrift::Result<()> {
        Ok(())
    }

    fn read_byte(&mut self) -> thrift::Result<u8> {
        Ok(self.source.read_byte()?)
    }

    fn min_serialized_size(&self, field_type: TType) -> usize {
        match field_type {
            TType::I16 => 2,
            TType::I32 | TType::String | TType::Map | TType::Set | TType::List => 4,
            TType::Double | TType::I64 => 8,
            TType::Uuid => 16,
            _ => 1,
        }
    }
}
