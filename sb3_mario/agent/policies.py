"""The tutorial's Q-network as a SB3 features extractor and policy."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import torch as th
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor, create_mlp
from stable_baselines3.dqn.policies import CnnPolicy, QNetwork
from torch import nn


class MarioCNN(BaseFeaturesExtractor):
    """The convolutional trunk of the tutorial's ``DQNSolver``.

    Conv(32, 8x8, stride 4) - ReLU - Conv(64, 4x4, stride 2) - ReLU - Conv(64, 3x3, stride 1) - ReLU -
    flatten - Linear(512) - ReLU. With ``net_arch=[]`` SB3's ``QNetwork`` adds the tutorial's last
    layer, ``Linear(512, n_actions)``. This is also the network of Mnih et al. (2015), Nature.

    Inputs arrive scaled to [0, 1] by the policy (``normalize_images=True``), as the tutorial's
    ``ScaledFloatFrame`` did in the env.

    :param observation_space: (frames, height, width) image space, (4, 84, 84) by default
    :param features_dim: width of the last hidden layer, 512 as in the tutorial
    """

    def __init__(self, observation_space: gym.spaces.Box, features_dim: int = 512):
        super().__init__(observation_space, features_dim)
        n_input_channels = observation_space.shape[0]
        self.cnn = nn.Sequential(
            nn.Conv2d(n_input_channels, 32, kernel_size=8, stride=4),
            nn.ReLU(),
            nn.Conv2d(32, 64, kernel_size=4, stride=2),
            nn.ReLU(),
            nn.Conv2d(64, 64, kernel_size=3, stride=1),
            nn.ReLU(),
            nn.Flatten(),
        )
        with th.no_grad():
            n_flatten = self.cnn(th.zeros(1, *observation_space.shape)).shape[1]
        self.linear = nn.Sequential(nn.Linear(n_flatten, features_dim), nn.ReLU())

    def forward(self, observations: th.Tensor) -> th.Tensor:
        return self.linear(self.cnn(observations))


#: ``policy_kwargs`` that give ``CnnPolicy`` the tutorial's network (``net_arch=[]``: without it a
#: custom extractor gets two extra hidden layers of 64).
MARIO_POLICY_KWARGS: dict[str, Any] = {"features_extractor_class": MarioCNN, "net_arch": []}


class DuelingHead(nn.Module):
    """The dueling architecture's head (Wang et al. 2016, "Dueling Network Architectures for Deep
    Reinforcement Learning", eq. 9): a state value and one advantage per action, from the same features,
    combined as ``Q(s, a) = V(s) + A(s, a) - mean_a' A(s, a')``.

    Each stream is SB3's ``create_mlp`` with the policy's ``net_arch``: with the tutorial's ``net_arch=[]``,
    ``Linear(512, 1)`` and ``Linear(512, n_actions)`` on the tutorial's 512 features (Wang et al. give each
    stream a hidden layer of 512 of its own; here the trunk stays the tutorial's network).

    :param features_dim: width of the features
    :param n_actions: number of actions
    :param net_arch: hidden layers of each stream
    :param activation_fn: activation between them
    """

    def __init__(self, features_dim: int, n_actions: int, net_arch: list[int], activation_fn: type[nn.Module]):
        super().__init__()
        self.value = nn.Sequential(*create_mlp(features_dim, 1, net_arch, activation_fn))
        self.advantage = nn.Sequential(*create_mlp(features_dim, n_actions, net_arch, activation_fn))

    def forward(self, features: th.Tensor) -> th.Tensor:
        advantage = self.advantage(features)
        return self.value(features) + advantage - advantage.mean(dim=1, keepdim=True)


class DuelingQNetwork(QNetwork):
    """SB3's ``QNetwork`` with a :class:`DuelingHead` as its ``q_net``: features, acting and every caller of
    ``q_net`` stay SB3's."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.q_net = DuelingHead(self.features_dim, int(self.action_space.n), self.net_arch, self.activation_fn)


#: Optimizers that take ``fused=True``: one kernel per step instead of one per tensor and operation.
FUSED_OPTIMIZERS = (th.optim.Adam, th.optim.AdamW)


class MarioCnnPolicy(CnnPolicy):
    """``CnnPolicy`` whose defaults are :data:`MARIO_POLICY_KWARGS`; works with ``DQN`` and ``DoubleDQN``.

    Its Adam is PyTorch's fused implementation (``optimizer_kwargs={"fused": True}`` added to those
    given, unless they set ``fused`` or ``foreach``): the same update, within float rounding, in one
    kernel, where torch's CPU default loops over the tensors in Python (2.9x faster per step on a
    2-core CPU, docs/benchmarks.md). It runs on CPU and CUDA tensors; give ``fused: false`` elsewhere.

    :param dueling: the Q head is a :class:`DuelingHead` (``policy_kwargs: {dueling: true}``); ``False``, the
        default, keeps the tutorial's ``Linear(512, n_actions)``
    """

    def __init__(self, *args: Any, dueling: bool = False, **kwargs: Any):
        self.dueling = dueling  # read by make_q_net, which the base class's __init__ calls
        for key, value in MARIO_POLICY_KWARGS.items():
            kwargs.setdefault(key, value)
        optimizer_kwargs = kwargs.get("optimizer_kwargs") or {}
        if kwargs.get("optimizer_class", th.optim.Adam) in FUSED_OPTIMIZERS and not {"fused", "foreach"} & set(
            optimizer_kwargs
        ):
            kwargs["optimizer_kwargs"] = {"fused": True, **optimizer_kwargs}
        super().__init__(*args, **kwargs)

    def make_q_net(self) -> QNetwork:
        if not self.dueling:
            return super().make_q_net()
        net_args = self._update_features_extractor(self.net_args, features_extractor=None)
        return DuelingQNetwork(**net_args).to(self.device)

    def _get_constructor_parameters(self) -> dict[str, Any]:
        return {**super()._get_constructor_parameters(), "dueling": self.dueling}
