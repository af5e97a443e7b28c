package surface

func registerMaintenance() {}
