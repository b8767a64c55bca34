"""Built-in monitoring: monitors that check the team's services (HTTP, TCP), the probe engine that runs
them, and the verdicts that become one more cause of a component's derived status."""
