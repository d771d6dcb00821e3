# Generated from spec/resnet18.yaml by `python -m tools.generate`; do not edit.
"""ResNet-18 (torchvision).

Input 3x224x224; 11,689,512 parameters; 1,814,073,344 multiply-accumulates per image.
Shapes in the comments are C x H x W for one image (the batch dimension is left out).
"""

import torch
from torch import nn

__all__ = ["ResNet18"]

SPEC = 'resnet18'
INPUT_SHAPE = (3, 224, 224)


class Basic(nn.Module):
    def __init__(self, in_channels: int, planes: int, stride: int = 1, downsample: bool = False) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, planes, kernel_size=3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu1 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, kernel_size=3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = nn.Sequential(
            nn.Conv2d(in_channels, planes, kernel_size=1, stride=stride, bias=False),
            nn.BatchNorm2d(planes),
        ) if downsample else None
        self.relu2 = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        conv1 = self.conv1(x)
        bn1 = self.bn1(conv1)
        relu1 = self.relu1(bn1)
        conv2 = self.conv2(relu1)
        bn2 = self.bn2(conv2)
        downsample = self.downsample(x) if self.downsample is not None else x
        add = bn2 + downsample
        relu2 = self.relu2(add)
        return relu2


class ResNet18(nn.Module):
    def __init__(self, num_classes: int = 1000) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, kernel_size=7, stride=2, padding=3, bias=False)  # conv1: 3x224x224 -> 64x112x112
        self.bn1 = nn.BatchNorm2d(64)  # bn1: 64x112x112
        self.relu = nn.ReLU(inplace=True)  # relu: 64x112x112
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)  # maxpool: 64x112x112 -> 64x56x56
        self.layer1 = nn.Sequential(
            Basic(64, planes=64),  # layer1.0: 64x56x56 -> 64x56x56
            Basic(64, planes=64),  # layer1.1: 64x56x56 -> 64x56x56
        )
        self.layer2 = nn.Sequential(
            Basic(64, planes=128, stride=2, downsample=True),  # layer2.0: 64x56x56 -> 128x28x28
            Basic(128, planes=128),  # layer2.1: 128x28x28 -> 128x28x28
        )
        self.layer3 = nn.Sequential(
            Basic(128, planes=256, stride=2, downsample=True),  # layer3.0: 128x28x28 -> 256x14x14
            Basic(256, planes=256),  # layer3.1: 256x14x14 -> 256x14x14
        )
        self.layer4 = nn.Sequential(
            Basic(256, planes=512, stride=2, downsample=True),  # layer4.0: 256x14x14 -> 512x7x7
            Basic(512, planes=512),  # layer4.1: 512x7x7 -> 512x7x7
        )
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))  # avgpool: 512x7x7 -> 512x1x1
        self.fc = nn.Linear(512, num_classes)  # fc: 512 -> 1000

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv1(x)
        x = self.bn1(x)
        x = self.relu(x)
        x = self.maxpool(x)
        x = self.layer1(x)
        x = self.layer2(x)
        x = self.layer3(x)
        x = self.layer4(x)
        x = self.avgpool(x)
        x = torch.flatten(x, 1)
        x = self.fc(x)
        return x
