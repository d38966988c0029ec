package sqlite

// WaitIndexes waits for a background index build started so far.
func (s *Store) WaitIndexes() { s.builds.Wait() }
