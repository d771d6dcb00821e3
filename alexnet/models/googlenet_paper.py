# Generated from spec/googlenet_paper.yaml by `python -m tools.generate`; do not edit.
"""GoogLeNet (the 2014 paper).

Input 3x224x224; 6,998,552 parameters; 1,582,671,872 multiply-accumulates per image.
Shapes in the comments are C x H x W for one image (the batch dimension is left out).
"""

import torch
from torch import nn

from alexnet.layers import LocalResponseNorm

__all__ = ["GoogLeNetPaper"]

SPEC = 'googlenet_paper'
INPUT_SHAPE = (3, 224, 224)


class ConvRelu(nn.Module):
    def __init__(self, in_channels: int, out: int, kernel: int, padding: int = 0) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out, kernel_size=kernel, padding=padding)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        conv = self.conv(x)
        relu = self.relu(conv)
        return relu


class Inception(nn.Module):
    def __init__(self, in_channels: int, ch1x1: int, ch3x3red: int, ch3x3: int, ch5x5red: int, ch5x5: int, pool_proj: int) -> None:
        super().__init__()
        self.branch1 = ConvRelu(in_channels, out=ch1x1, kernel=1)
        self.branch2 = nn.Sequential(
            ConvRelu(in_channels, out=ch3x3red, kernel=1),
            ConvRelu(ch3x3red, out=ch3x3, kernel=3, padding=1),
        )
        self.branch3 = nn.Sequential(
            ConvRelu(in_channels, out=ch5x5red, kernel=1),
            ConvRelu(ch5x5red, out=ch5x5, kernel=5, padding=2),
        )
        self.branch4 = nn.Sequential(
            nn.MaxPool2d(kernel_size=3, stride=1, padding=1),
            ConvRelu(in_channels, out=pool_proj, kernel=1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        branch1 = self.branch1(x)
        branch2 = self.branch2(x)
        branch3 = self.branch3(x)
        branch4 = self.branch4(x)
        concat = torch.cat([branch1, branch2, branch3, branch4], 1)
        return concat


class GoogLeNetPaper(nn.Module):
    def __init__(self, num_classes: int = 1000) -> None:
        super().__init__()
        self.conv1 = nn.Sequential(
            nn.Conv2d(3, 64, kernel_size=7, stride=2, padding=3),  # conv1: 3x224x224 -> 64x112x112
            nn.ReLU(inplace=True),  # relu1: 64x112x112
        )
        self.pool1 = nn.Sequential(
            nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),  # maxpool1: 64x112x112 -> 64x56x56
            LocalResponseNorm(5, alpha=0.0001, beta=0.75, k=1.0, convention='divided_by_n'),  # norm1: 64x56x56
        )
        self.conv2 = nn.Sequential(
            nn.Conv2d(64, 64, kernel_size=1),  # conv2_reduce: 64x56x56 -> 64x56x56
            nn.ReLU(inplace=True),  # relu2_reduce: 64x56x56
            nn.Conv2d(64, 192, kernel_size=3, padding=1),  # conv2: 64x56x56 -> 192x56x56
            nn.ReLU(inplace=True),  # relu2: 192x56x56
            LocalResponseNorm(5, alpha=0.0001, beta=0.75, k=1.0, convention='divided_by_n'),  # norm2: 192x56x56
        )
        self.pool2 = nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True)  # maxpool2: 192x56x56 -> 192x28x28
        self.inception3a = Inception(192, ch1x1=64, ch3x3red=96, ch3x3=128, ch5x5red=16, ch5x5=32, pool_proj=32)  # inception3a: 192x28x28 -> 256x28x28
        self.inception3b = Inception(256, ch1x1=128, ch3x3red=128, ch3x3=192, ch5x5red=32, ch5x5=96, pool_proj=64)  # inception3b: 256x28x28 -> 480x28x28
        self.pool3 = nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True)  # maxpool3: 480x28x28 -> 480x14x14
        self.inception4a = Inception(480, ch1x1=192, ch3x3red=96, ch3x3=208, ch5x5red=16, ch5x5=48, pool_proj=64)  # inception4a: 480x14x14 -> 512x14x14
        self.inception4b = Inception(512, ch1x1=160, ch3x3red=112, ch3x3=224, ch5x5red=24, ch5x5=64, pool_proj=64)  # inception4b: 512x14x14 -> 512x14x14
        self.inception4c = Inception(512, ch1x1=128, ch3x3red=128, ch3x3=256, ch5x5red=24, ch5x5=64, pool_proj=64)  # inception4c: 512x14x14 -> 512x14x14
        self.inception4d = Inception(512, ch1x1=112, ch3x3red=144, ch3x3=288, ch5x5red=32, ch5x5=64, pool_proj=64)  # inception4d: 512x14x14 -> 528x14x14
        self.inception4e = Inception(528, ch1x1=256, ch3x3red=160, ch3x3=320, ch5x5red=32, ch5x5=128, pool_proj=128)  # inception4e: 528x14x14 -> 832x14x14
        self.pool4 = nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True)  # maxpool4: 832x14x14 -> 832x7x7
        self.inception5a = Inception(832, ch1x1=256, ch3x3red=160, ch3x3=320, ch5x5red=32, ch5x5=128, pool_proj=128)  # inception5a: 832x7x7 -> 832x7x7
        self.inception5b = Inception(832, ch1x1=384, ch3x3red=192, ch3x3=384, ch5x5red=48, ch5x5=128, pool_proj=128)  # inception5b: 832x7x7 -> 1024x7x7
        self.avgpool = nn.AvgPool2d(kernel_size=7, stride=1)  # avgpool: 1024x7x7 -> 1024x1x1
        self.dropout = nn.Dropout(p=0.4)  # dropout: 1024
        self.fc = nn.Linear(1024, num_classes)  # fc: 1024 -> 1000

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv1(x)
        x = self.pool1(x)
        x = self.conv2(x)
        x = self.pool2(x)
        x = self.inception3a(x)
        x = self.inception3b(x)
        x = self.pool3(x)
        x = self.inception4a(x)
        x = self.inception4b(x)
        x = self.inception4c(x)
        x = self.inception4d(x)
        x = self.inception4e(x)
        x = self.pool4(x)
        x = self.inception5a(x)
        x = self.inception5b(x)
        x = self.avgpool(x)
        x = torch.flatten(x, 1)
        x = self.dropout(x)
        x = self.fc(x)
        return x
