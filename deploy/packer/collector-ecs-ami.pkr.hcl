# An ECS-optimized AMI with collector installed and enabled (Packer HCL2;
# validated with Packer 1.6.6, whose amazon-ebs builder is built in: no
# plugin download).
#
#   packer validate -var collector_rpm=collector-0.1.0-1.x86_64.rpm deploy/packer/collector-ecs-ami.pkr.hcl
#   packer build    -var collector_rpm=collector-0.1.0-1.x86_64.rpm -var region=eu-west-1 \
#                   deploy/packer/collector-ecs-ami.pkr.hcl
#
# The RPM is built on Amazon Linux 2023 from deploy/collector.spec. The base
# is the newest ECS-optimized Amazon Linux 2023 AMI (ami_name_filter picks
# Amazon Linux 2's with "amzn2-ami-ecs-hvm-*-x86_64-ebs"). The service is
# enabled, not started: it starts at the instance's boot, with the
# instance's role (docs/operations.md, "Deploy on ECS").

variable "region" {
  type    = string
  default = "us-east-1"
}

variable "instance_type" {
  type    = string
  default = "t3.small"
}

variable "ami_name_filter" {
  type    = string
  default = "al2023-ami-ecs-hvm-*-x86_64"
}

variable "collector_rpm" {
  type        = string
  description = "path of the collector RPM to install"
}

variable "ami_name_prefix" {
  type    = string
  default = "ecs-collector"
}

source "amazon-ebs" "ecs" {
  region        = var.region
  instance_type = var.instance_type
  ssh_username  = "ec2-user"
  ami_name      = "${var.ami_name_prefix}-${formatdate("YYYYMMDDhhmm", timestamp())}"
  source_ami_filter {
    filters = {
      name                = var.ami_name_filter
      architecture        = "x86_64"
      root-device-type    = "ebs"
      virtualization-type = "hvm"
    }
    owners      = ["amazon"]
    most_recent = true
  }
  tags = {
    Name      = "ECS-optimized with collector"
    BaseAMI   = "{{ .SourceAMI }}"
    Collector = basename(var.collector_rpm)
  }
}

build {
  sources = ["source.amazon-ebs.ecs"]

  provisioner "file" {
    source      = var.collector_rpm
    destination = "/tmp/collector.rpm"
  }

  provisioner "shell" {
    inline = [
      "sudo yum install -y /tmp/collector.rpm",
      "rm -f /tmp/collector.rpm",
      "sudo /usr/bin/collector check-config -c /etc/collector/conf.d >/dev/null",
      "sudo systemctl enable collector.service",
      "systemctl is-enabled collector.service",
      # Nothing of this build's state goes into the image.
      "sudo rm -rf /var/lib/collector/*",
    ]
  }
}
