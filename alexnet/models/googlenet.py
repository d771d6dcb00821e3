# Generated from spec/googlenet.yaml by `python -m tools.generate`; do not edit.
"""GoogLeNet (torchvision).

Input 3x224x224; 6,624,904 parameters; 1,498,376,192 multiply-accumulates per image.
Shapes in the comments are C x H x W for one image (the batch dimension is left out).
"""

import torch
from torch import nn

__all__ = ["GoogLeNet"]

SPEC = 'googlenet'
INPUT_SHAPE = (3, 224, 224)


class BasicConv(nn.Module):
    def __init__(self, in_channels: int, out: int, kernel: int, stride: int = 1, padding: int = 0) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out, kernel_size=kernel, stride=stride, padding=padding, bias=False)
        self.bn = nn.BatchNorm2d(out, eps=0.001)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        conv = self.conv(x)
        bn = self.bn(conv)
        relu = self.relu(bn)
        return relu


class Inception(nn.Module):
    def __init__(self, in_channels: int, ch1x1: int, ch3x3red: int, ch3x3: int, ch5x5red: int, ch5x5: int, pool_proj: int) -> None:
        super().__init__()
        self.branch1 = BasicConv(in_channels, out=ch1x1, kernel=1)
        self.branch2 = nn.Sequential(
            BasicConv(in_channels, out=ch3x3red, kernel=1),
            BasicConv(ch3x3red, out=ch3x3, kernel=3, padding=1),
        )
        self.branch3 = nn.Sequential(
            BasicConv(in_channels, out=ch5x5red, kernel=1),
            BasicConv(ch5x5red, out=ch5x5, kernel=3, padding=1),
        )
        self.branch4 = nn.Sequential(
            nn.MaxPool2d(kernel_size=3, stride=1, padding=1, ceil_mode=True),
            BasicConv(in_channels, out=pool_proj, kernel=1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        branch1 = self.branch1(x)
        branch2 = self.branch2(x)
        branch3 = self.branch3(x)
        branch4 = self.branch4(x)
        concat = torch.cat([branch1, branch2, branch3, branch4], 1)
        return concat


class GoogLeNet(nn.Module):
    def __init__(self, num_classes: int = 1000) -> None:
        super().__init__()
        self.conv1 = BasicConv(3, out=64, kernel=7, stride=2, padding=3)  # conv1: 3x224x224 -> 64x112x112
        self.maxpool1 = nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True)  # maxpool1: 64x112x112 -> 64x56x56
        self.conv2 = BasicConv(64, out=64, kernel=1)  # conv2: 64x56x56 -> 64x56x56
        self.conv3 = BasicConv(64, out=192, kernel=3, padding=1)  # conv3: 64x56x56 -> 192x56x56
        self.maxpool2 = nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True)  # maxpool2: 192x56x56 -> 192x28x28
        self.inception3a = Inception(192, ch1x1=64, ch3x3red=96, ch3x3=128, ch5x5red=16, ch5x5=32, pool_proj=32)  # inception3a: 192x28x28 -> 256x28x28
        self.inception3b = Inception(256, ch1x1=128, ch3x3red=128, ch3x3=192, ch5x5red=32, ch5x5=96, pool_proj=64)  # inception3b: 256x28x28 -> 480x28x28
        self.maxpool3 = nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True)  # maxpool3: 480x28x28 -> 480x14x14
        self.inception4a = Inception(480, ch1x1=192, ch3x3red=96, ch3x3=208, ch5x5red=16, ch5x5=48, pool_proj=64)  # inception4a: 480x14x14 -> 512x14x14
        self.inception4b = Inception(512, ch1x1=160, ch3x3red=112, ch3x3=224, ch5x5red=24, ch5x5=64, pool_proj=64)  # inception4b: 512x14x14 -> 512x14x14
        self.inception4c = Inception(512, ch1x1=128, ch3x3red=128, ch3x3=256, ch5x5red=24, ch5x5=64, pool_proj=64)  # inception4c: 512x14x14 -> 512x14x14
        self.inception4d = Inception(512, ch1x1=112, ch3x3red=144, ch3x3=288, ch5x5red=32, ch5x5=64, pool_proj=64)  # inception4d: 512x14x14 -> 528x14x14
        self.inception4e = Inception(528, ch1x1=256, ch3x3red=160, ch3x3=320, ch5x5red=32, ch5x5=128, pool_proj=128)  # inception4e: 528x14x14 -> 832x14x14
        self.maxpool4 = nn.MaxPool2d(kernel_size=2, ceil_mode=True)  # maxpool4: 832x14x14 -> 832x7x7
        self.inception5a = Inception(832, ch1x1=256, ch3x3red=160, ch3x3=320, ch5x5red=32, ch5x5=128, pool_proj=128)  # inception5a: 832x7x7 -> 832x7x7
        self.inception5b = Inception(832, ch1x1=384, ch3x3red=192, ch3x3=384, ch5x5red=48, ch5x5=128, pool_proj=128)  # inception5b: 832x7x7 -> 1024x7x7
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))  # avgpool: 1024x7x7 -> 1024x1x1
        self.dropout = nn.Dropout(p=0.2)  # dropout: 1024
        self.fc = nn.Linear(1024, num_classes)  # fc: 1024 -> 1000

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv1(x)
        x = self.maxpool1(x)
        x = self.conv2(x)
        x = self.conv3(x)
        x = self.maxpool2(x)
        x = self.inception3a(x)
        x = self.inception3b(x)
        x = self.maxpool3(x)
        x = self.inception4a(x)
        x = self.inception4b(x)
        x = self.inception4c(x)
        x = self.inception4d(x)
        x = self.inception4e(x)
        x = self.maxpool4(x)
        x = self.inception5a(x)
        x = self.inception5b(x)
        x = self.avgpool(x)
        x = torch.flatten(x, 1)
        x = self.dropout(x)
        x = self.fc(x)
        return x
