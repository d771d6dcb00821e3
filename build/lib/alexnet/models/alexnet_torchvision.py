# Generated from spec/alexnet_torchvision.yaml by `python -m tools.generate`; do not edit.
"""AlexNet (torchvision).

Input 3x224x224; 61,100,840 parameters; 714,188,480 multiply-accumulates per image.
Shapes in the comments are C x H x W for one image (the batch dimension is left out).
"""

import torch
from torch import nn

__all__ = ["AlexNetTorchvision"]

SPEC = 'alexnet_torchvision'
INPUT_SHAPE = (3, 224, 224)


class AlexNetTorchvision(nn.Module):
    def __init__(self, num_classes: int = 1000) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 64, kernel_size=11, stride=4, padding=2),  # conv1: 3x224x224 -> 64x55x55
            nn.ReLU(inplace=True),  # relu1: 64x55x55
            nn.MaxPool2d(kernel_size=3, stride=2),  # pool1: 64x55x55 -> 64x27x27
            nn.Conv2d(64, 192, kernel_size=5, padding=2),  # conv2: 64x27x27 -> 192x27x27
            nn.ReLU(inplace=True),  # relu2: 192x27x27
            nn.MaxPool2d(kernel_size=3, stride=2),  # pool2: 192x27x27 -> 192x13x13
            nn.Conv2d(192, 384, kernel_size=3, padding=1),  # conv3: 192x13x13 -> 384x13x13
            nn.ReLU(inplace=True),  # relu3: 384x13x13
            nn.Conv2d(384, 256, kernel_size=3, padding=1),  # conv4: 384x13x13 -> 256x13x13
            nn.ReLU(inplace=True),  # relu4: 256x13x13
            nn.Conv2d(256, 256, kernel_size=3, padding=1),  # conv5: 256x13x13 -> 256x13x13
            nn.ReLU(inplace=True),  # relu5: 256x13x13
            nn.MaxPool2d(kernel_size=3, stride=2),  # pool3: 256x13x13 -> 256x6x6
        )
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))  # avgpool: 256x6x6 -> 256x6x6
        self.classifier = nn.Sequential(
            nn.Dropout(p=0.5),  # drop1: 9216
            nn.Linear(9216, 4096),  # fc1: 9216 -> 4096
            nn.ReLU(inplace=True),  # relu6: 4096
            nn.Dropout(p=0.5),  # drop2: 4096
            nn.Linear(4096, 4096),  # fc2: 4096 -> 4096
            nn.ReLU(inplace=True),  # relu7: 4096
            nn.Linear(4096, num_classes),  # fc3: 4096 -> 1000
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x)
        x = self.avgpool(x)
        x = torch.flatten(x, 1)
        x = self.classifier(x)
        return x
