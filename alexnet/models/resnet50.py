# Generated from spec/resnet50.yaml by `python -m tools.generate`; do not edit.
"""ResNet-50 (torchvision).

Input 3x224x224; 25,557,032 parameters; 4,089,184,256 multiply-accumulates per image.
Shapes in the comments are C x H x W for one image (the batch dimension is left out).
"""

import torch
from torch import nn

__all__ = ["ResNet50"]

SPEC = 'resnet50'
INPUT_SHAPE = (3, 224, 224)


class Bottleneck(nn.Module):
    def __init__(self, in_channels: int, width: int, planes: int, stride: int = 1, downsample: bool = False) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, width, kernel_size=1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu1 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(width, width, kernel_size=3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.relu2 = nn.ReLU(inplace=True)
        self.conv3 = nn.Conv2d(width, planes, kernel_size=1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes)
        self.downsample = nn.Sequential(
            nn.Conv2d(in_channels, planes, kernel_size=1, stride=stride, bias=False),
            nn.BatchNorm2d(planes),
        ) if downsample else None
        self.relu3 = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        conv1 = self.conv1(x)
        bn1 = self.bn1(conv1)
        relu1 = self.relu1(bn1)
        conv2 = self.conv2(relu1)
        bn2 = self.bn2(conv2)
        relu2 = self.relu2(bn2)
        conv3 = self.conv3(relu2)
        bn3 = self.bn3(conv3)
        downsample = self.downsample(x) if self.downsample is not None else x
        add = bn3 + downsample
        relu3 = self.relu3(add)
        return relu3


class ResNet50(nn.Module):
    def __init__(self, num_classes: int = 1000) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, kernel_size=7, stride=2, padding=3, bias=False)  # conv1: 3x224x224 -> 64x112x112
        self.bn1 = nn.BatchNorm2d(64)  # bn1: 64x112x112
        self.relu = nn.ReLU(inplace=True)  # relu: 64x112x112
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)  # maxpool: 64x112x112 -> 64x56x56
        self.layer1 = nn.Sequential(
            Bottleneck(64, width=64, planes=256, downsample=True),  # layer1.0: 64x56x56 -> 256x56x56
            Bottleneck(256, width=64, planes=256),  # layer1.1: 256x56x56 -> 256x56x56
            Bottleneck(256, width=64, planes=256),  # layer1.2: 256x56x56 -> 256x56x56
        )
        self.layer2 = nn.Sequential(
            Bottleneck(256, width=128, planes=512, stride=2, downsample=True),  # layer2.0: 256x56x56 -> 512x28x28
            Bottleneck(512, width=128, planes=512),  # layer2.1: 512x28x28 -> 512x28x28
            Bottleneck(512, width=128, planes=512),  # layer2.2: 512x28x28 -> 512x28x28
            Bottleneck(512, width=128, planes=512),  # layer2.3: 512x28x28 -> 512x28x28
        )
        self.layer3 = nn.Sequential(
            Bottleneck(512, width=256, planes=1024, stride=2, downsample=True),  # layer3.0: 512x28x28 -> 1024x14x14
            Bottleneck(1024, width=256, planes=1024),  # layer3.1: 1024x14x14 -> 1024x14x14
            Bottleneck(1024, width=256, planes=1024),  # layer3.2: 1024x14x14 -> 1024x14x14
            Bottleneck(1024, width=256, planes=1024),  # layer3.3: 1024x14x14 -> 1024x14x14
            Bottleneck(1024, width=256, planes=1024),  # layer3.4: 1024x14x14 -> 1024x14x14
            Bottleneck(1024, width=256, planes=1024),  # layer3.5: 1024x14x14 -> 1024x14x14
        )
        self.layer4 = nn.Sequential(
            Bottleneck(1024, width=512, planes=2048, stride=2, downsample=True),  # layer4.0: 1024x14x14 -> 2048x7x7
            Bottleneck(2048, width=512, planes=2048),  # layer4.1: 2048x7x7 -> 2048x7x7
            Bottleneck(2048, width=512, planes=2048),  # layer4.2: 2048x7x7 -> 2048x7x7
        )
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))  # avgpool: 2048x7x7 -> 2048x1x1
        self.fc = nn.Linear(2048, num_classes)  # fc: 2048 -> 1000

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
