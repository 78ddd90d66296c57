// Package handler implements PingService and Serv for the Go server.
package handler

import (
	"context"
	"errors"
	"strconv"

	"thriftframe/interop/go/gen/ping"
	"thriftframe/interop/go/gen/student"
)

// Handler serves both services; it keeps no state.
type Handler struct{}

var (
	_ ping.PingService = Handler{}
	_ student.Serv     = Handler{}
)

// Ping answers "receive len: N", N = the UTF-8 byte length of msg
// (len of a Go string counts bytes).
func (Handler) Ping(_ context.Context, msg string) (string, error) {
	return "receive len: " + strconv.Itoa(len(msg)), nil
}

// Output echoes msg as "You said: <msg>".
func (Handler) Output(_ context.Context, msg string) (string, error) {
	return "You said: " + msg, nil
}

// Put returns the student's sno.
func (Handler) Put(_ context.Context, s *student.Student) (int32, error) {
	if s == nil {
		return 0, errors.New("put: no student")
	}
	return s.Sno, nil
}
