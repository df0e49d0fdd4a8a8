<?php

declare(strict_types=1);

namespace SessionCluster;

/** Both nodes unreachable (or the one left failed): the handler method returns false. */
final class ClusterSessionUnavailable extends \RuntimeException
{
}
