#include "query/cloud_path.h"

#include <gtest/gtest.h>

namespace aclkd::query {
namespace {

constexpr const char* kId = "0b3a9c4e-2f1d-4e5a-9b8c-7d6e5f4a3b2c";
constexpr const char* kId2 = "11111111-2222-4333-8444-555555555555";

TEST(CloudPathTest, PlainApiPathIsLocal) {
  const auto r = routeCloudPath("/api/v1/info");
  EXPECT_EQ(r.kind, CloudPathTarget::Kind::kLocal);
  EXPECT_EQ(r.rest, "/api/v1/info");
}

TEST(CloudPathTest, NodePrefixSelectsNodeAndStripsPrefix) {
  const auto r = routeCloudPath(std::string("/node/") + kId + "/api/v1/data?chart=system.cpu");
  EXPECT_EQ(r.kind, CloudPathTarget::Kind::kNode);
  EXPECT_EQ(r.selector, kId);
  EXPECT_EQ(r.rest, "/api/v1/data?chart=system.cpu");
}

TEST(CloudPathTest, NodeIdIsLowerCased) {
  const auto r = routeCloudPath("/node/0B3A9C4E-2F1D-4E5A-9B8C-7D6E5F4A3B2C/api/v1/info");
  EXPECT_EQ(r.kind, CloudPathTarget::Kind::kNode);
  EXPECT_EQ(r.selector, kId);
}

TEST(CloudPathTest, ShortNodeIdIsErrorCodeOne) {
  EXPECT_EQ(routeCloudPath("/node/0b3a9c4e/api/v1/info").kind, CloudPathTarget::Kind::kBadNodeId);
  EXPECT_EQ(routeCloudPath("/node/").kind, CloudPathTarget::Kind::kBadNodeId);
}

TEST(CloudPathTest, HostPrefixKeepsHostnameAsWritten) {
  const auto r = routeCloudPath("/host/Child-01/api/v1/charts");
  EXPECT_EQ(r.kind, CloudPathTarget::Kind::kHost);
  EXPECT_EQ(r.selector, "Child-01");
  EXPECT_EQ(r.rest, "/api/v1/charts");
}

TEST(CloudPathTest, HostPrefixWithQueryOnly) {
  const auto r = routeCloudPath("/host/child?x=1");
  EXPECT_EQ(r.kind, CloudPathTarget::Kind::kHost);
  EXPECT_EQ(r.rest, "/?x=1");
}

TEST(CloudPathTest, ScopeNodesSelectsUuids) {
  const auto r = routeCloudPath(std::string("/api/v3/data?contexts=system.cpu&scope_nodes=") + kId +
                                "|" + kId2 + "&after=-60");
  EXPECT_EQ(r.kind, CloudPathTarget::Kind::kScope);
  ASSERT_EQ(r.scopeIds.size(), 2u);
  EXPECT_EQ(r.scopeIds[0], kId);
  EXPECT_EQ(r.scopeIds[1], kId2);
}

TEST(CloudPathTest, NodesParamWithEncodedSeparatorAndNegation) {
  const auto r = routeCloudPath(std::string("/api/v2/data?nodes=!") + kId + "%7C" + kId2);
  EXPECT_EQ(r.kind, CloudPathTarget::Kind::kScope);
  ASSERT_EQ(r.scopeIds.size(), 2u);
  EXPECT_EQ(r.scopeIds[0], kId);
}

TEST(CloudPathTest, ScopeWithoutUuidsOrOnV1IsLocal) {
  EXPECT_EQ(routeCloudPath("/api/v3/data?scope_nodes=*").kind, CloudPathTarget::Kind::kLocal);
  EXPECT_EQ(routeCloudPath(std::string("/api/v1/data?scope_nodes=") + kId).kind,
            CloudPathTarget::Kind::kLocal);
  // A parameter that merely ends in "nodes" does not select.
  EXPECT_EQ(routeCloudPath(std::string("/api/v3/data?xnodes=") + kId).kind,
            CloudPathTarget::Kind::kLocal);
}

TEST(CloudPathTest, RewriteScopeIdsSwapsOnlyKnownIdsInScopeParams) {
  const std::string path = std::string("/api/v3/data?scope_nodes=") + kId + "|" + kId2 +
                           "&label=" + kId + "&nodes=!" + kId;
  const auto out = rewriteScopeIds(path, {{kId, "GUID-A"}});
  EXPECT_EQ(out, std::string("/api/v3/data?scope_nodes=GUID-A|") + kId2 + "&label=" + kId +
                     "&nodes=!GUID-A");
}

TEST(CloudPathTest, ApiPaths) {
  EXPECT_TRUE(isApiPath("/api/v1/info"));
  EXPECT_TRUE(isApiPath("/api/v3/function?function=processes"));
  EXPECT_FALSE(isApiPath("/"));
  EXPECT_FALSE(isApiPath("/index.html"));
  EXPECT_FALSE(isApiPath("/api/../etc/passwd"));
  EXPECT_FALSE(isApiPath("/api/v1/.."));
  EXPECT_FALSE(isApiPath("/apix/v1"));
}

}  // namespace
}  // namespace aclkd::query
