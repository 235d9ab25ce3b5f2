package postgres

import (
	"runtime"
	"sync"
)

// evalWorkers run the policy evaluations of a decision batch (decisions.go). They live as long
// as the process: an evaluation recurses deeply, and a goroutine started per batch would grow
// its stack from scratch every time (runtime.copystack took a tenth of the process's CPU under
// load); a long-lived worker keeps most of its stack between batches.
var evalWorkers struct {
	once  sync.Once
	tasks chan func()
}

// runParallel runs every task and returns when all are done: on the workers while one is free,
// and on the calling goroutine, which takes part, otherwise.
func runParallel(tasks []func()) {
	if len(tasks) == 1 {
		tasks[0]()
		return
	}
	evalWorkers.once.Do(func() {
		n := runtime.GOMAXPROCS(0)
		evalWorkers.tasks = make(chan func())
		for range n {
			go func() {
				for t := range evalWorkers.tasks {
					t()
				}
			}()
		}
	})
	var wg sync.WaitGroup
	for _, t := range tasks {
		wg.Add(1)
		task := func() { defer wg.Done(); t() }
		select {
		case evalWorkers.tasks <- task:
		default:
			task()
		}
	}
	wg.Wait()
}
