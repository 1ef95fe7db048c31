"""What each running scheduler is asked on a timer (GPU readings, idle time, package versions)."""
