"""The core's web layer: templating, authentication, CSRF, errors, and the helpers routes share."""
