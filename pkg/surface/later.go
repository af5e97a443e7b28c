package surface

func registerProxy()       {}
func registerAudit()       {}
func registerDetails()     {}
func registerPrune()       {}
func registerServer()      {}
func registerSecrets()     {}
func registerRegistry()    {}
func registerRemove()      {}
func registerMaintenance() {}
