"""The agent: the tutorial's network (``policies``), ``DoubleDQN``, the replay buffer, exploration
schedules and the named hyperparameter sets (``presets``). Everything here but ``presets`` imports torch."""
