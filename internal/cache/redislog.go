package cache

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/redis/go-redis/v9"
)

// go-redis prints a line for every failed dial of its pools and its pub/sub reconnection loop:
// dozens a second while Redis is down, against the rule of one line per state change. Its
// logger is process-wide, so the last opened cache's logger takes its lines, at debug level.
var (
	redisLogOnce sync.Once
	redisLog     atomic.Pointer[slog.Logger]
)

type redisLogger struct{}

func (redisLogger) Printf(ctx context.Context, format string, v ...any) {
	if l := redisLog.Load(); l != nil {
		l.DebugContext(ctx, "cache: go-redis: "+fmt.Sprintf(format, v...))
	}
}

func routeRedisLog(l *slog.Logger) {
	redisLog.Store(l)
	redisLogOnce.Do(func() { redis.SetLogger(redisLogger{}) })
}
