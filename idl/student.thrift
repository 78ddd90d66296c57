// Serv.put(Student) -> s.sno
// put is NOT idempotent from the client's point of view: clients never retry it
// automatically after a broken connection, because the outcome is unknown.
namespace rs student
namespace cpp thrift_frame.student
namespace go student
namespace py student

struct Student {
    1: i32 sno,
    2: string sname,
    3: bool ssex,
    4: i16 sage,
}

service Serv {
    i32 put(1: Student s),
}
