//! Protocols that hand every call to another protocol once it is known
//! (auto detection, THeader's per-frame decoder): the method lists, written
//! once. `$via` is a method of the implementing type returning
//! `thrift::Result<&mut P>` for the protocol that does the work.

/// Every `TInputProtocol` method but `read_message_begin`, through `$via`.
macro_rules! forward_reads_via {
    ($via:ident) => {
        forward_reads_via!(@each $via;
            read_message_end -> ();
            read_struct_begin -> Option<thrift::protocol::TStructIdentifier>;
            read_struct_end -> ();
            read_field_begin -> thrift::protocol::TFieldIdentifier;
            read_field_end -> ();
            read_bool -> bool;
            read_bytes -> Vec<u8>;
            read_i8 -> i8;
            read_i16 -> i16;
            read_i32 -> i32;
            read_i64 -> i64;
            read_double -> f64;
            read_uuid -> uuid::Uuid;
            read_string -> String;
            read_list_begin -> thrift::protocol::TListIdentifier;
            read_list_end -> ();
            read_set_begin -> thrift::protocol::TSetIdentifier;
            read_set_end -> ();
            read_map_begin -> thrift::protocol::TMapIdentifier;
            read_map_end -> ();
            read_byte -> u8;
            skip_binary -> ();
        );

        fn skip(&mut self, field_type: thrift::protocol::TType) -> thrift::Result<()> {
            self.$via()?.skip(field_type)
        }
    };
    (@each $via:ident; $($name:ident -> $ty:ty;)*) => {
        $(fn $name(&mut self) -> thrift::Result<$ty> {
            self.$via()?.$name()
        })*
    };
}

/// Every `TOutputProtocol` method but `flush` (and, with `without_begin`,
/// `write_message_begin`), through `$via`.
macro_rules! forward_writes_via {
    ($via:ident) => {
        forward_writes_via!(@each $via;
            write_message_begin(identifier: &thrift::protocol::TMessageIdentifier);
        );
        forward_writes_via!($via, without_begin);
    };
    ($via:ident, without_begin) => {
        forward_writes_via!(@each $via;
            write_message_end();
            write_struct_begin(identifier: &thrift::protocol::TStructIdentifier);
            write_struct_end();
            write_field_begin(identifier: &thrift::protocol::TFieldIdentifier);
            write_field_end();
            write_field_stop();
            write_bool(b: bool);
            write_bytes(b: &[u8]);
            write_i8(i: i8);
            write_i16(i: i16);
            write_i32(i: i32);
            write_i64(i: i64);
            write_double(d: f64);
            write_uuid(uuid: &uuid::Uuid);
            write_string(s: &str);
            write_list_begin(identifier: &thrift::protocol::TListIdentifier);
            write_list_end();
            write_set_begin(identifier: &thrift::protocol::TSetIdentifier);
            write_set_end();
            write_map_begin(identifier: &thrift::protocol::TMapIdentifier);
            write_map_end();
            write_byte(b: u8);
        );
    };
    (@each $via:ident; $($name:ident($($arg:ident: $ty:ty),*);)*) => {
        $(fn $name(&mut self, $($arg: $ty),*) -> thrift::Result<()> {
            self.$via()?.$name($($arg),*)
        })*
    };
}
