"""What every function stands on: the firebase_admin app, the services built once per
instance, the callable request guard, deployment settings. May import: the core, venues,
stores."""
